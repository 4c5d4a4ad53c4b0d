"""Demo supervisor phones (demo mode only): the demo supervisor's phone is 1901 (SIP password ``sip1901``),
the demo admin's 1902."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from floor.models import SupervisorPhone
from hotline.auth import Passwords
from hotline.auth.models import User

DEMO_PHONES = {"demo-supervisor": "1901", "demo-admin": "1902"}


def demo_phone_password(extension: str) -> str:
    return f"sip{extension}"


async def load(session: AsyncSession, passwords: Passwords) -> None:
    """Idempotent: phones already there are left as they are."""
    await session.flush()
    users = dict((await session.execute(select(User.username, User.id).where(User.username.in_(DEMO_PHONES)))).all())
    taken = set((await session.execute(select(SupervisorPhone.user_id))).scalars())
    for username, extension in DEMO_PHONES.items():
        user_id = users.get(username)
        if user_id is not None and user_id not in taken:
            session.add(
                SupervisorPhone(user_id=user_id, extension=extension, sip_password=demo_phone_password(extension))
            )
