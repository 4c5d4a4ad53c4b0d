"""Supervisors' phones: the phone a supervisor's listen, whisper and barge ring. Created by an admin with a
generated SIP password (returned once); rendered into pjsip.conf at the next start, like agents' phones.
An extension must be free among agents' extensions too: pjsip.conf names endpoints by extension."""

from __future__ import annotations

import secrets

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from floor.models import SupervisorPhone
from floor.schemas import PhoneCreate, PhoneCreated, PhoneView
from hotline.auth import Role
from hotline.auth.models import User
from hotline.db import Database
from hotline.errors import Conflict, NotFound


async def create_phone(db: Database, body: PhoneCreate) -> PhoneCreated:
    async with db.session() as s:
        user = (await s.execute(select(User).where(User.username == body.username))).scalar_one_or_none()
        if user is None:
            raise NotFound(f"no user {body.username}")
        if not {Role.supervisor.value, Role.admin.value} & set(user.roles):
            raise Conflict(f"user {body.username} is neither a supervisor nor an admin")
        password = secrets.token_urlsafe(18)
        s.add(SupervisorPhone(user_id=user.id, extension=body.extension, sip_password=password))
        try:
            await s.commit()
        except IntegrityError as e:
            raise Conflict(f"{body.username} has a phone already, or extension {body.extension} is taken") from e
    return PhoneCreated(username=body.username, extension=body.extension, sip_password=password)


async def list_phones(db: Database) -> list[PhoneView]:
    async with db.session() as s:
        rows = await s.execute(
            select(User.username, SupervisorPhone.extension)
            .join(User, User.id == SupervisorPhone.user_id)
            .order_by(SupervisorPhone.extension)
        )
        return [PhoneView(username=u, extension=e) for u, e in rows.all()]
