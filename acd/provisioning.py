"""New agents: the telephone side of an existing user, with a generated SIP password.

Only demo data uses the well-known ``sip<extension>`` passwords; an agent created here gets a random
one, returned once. Asterisk's endpoints are rendered at start-up, so the phone can register after the
next start.
"""

from __future__ import annotations

import secrets

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from acd.models import Agent
from hotline.auth import Role
from hotline.auth.models import User
from hotline.db import Database
from hotline.errors import Conflict, HotlineError, NotFound


def generate_sip_password() -> str:
    return secrets.token_urlsafe(18)


async def create_agent(db: Database, username: str) -> tuple[Agent, str]:
    """The agent for user ``username`` (their username is the extension: digits), and its SIP password."""
    if not username.isdigit() or len(username) > 16:
        raise HotlineError(f"an agent's username is their extension (digits): {username!r} is not one")
    async with db.session() as s:
        user = (await s.execute(select(User).where(User.username == username))).scalar_one_or_none()
        if user is None:
            raise NotFound(f"no user {username}")
        if Role.agent.value not in user.roles:
            raise Conflict(f"user {username} does not have the agent role")
        password = generate_sip_password()
        agent = Agent(extension=username, name=user.display_name, user_id=user.id, sip_password=password)
        s.add(agent)
        try:
            await s.commit()
        except IntegrityError as e:
            raise Conflict(f"agent {username} exists") from e
    return agent, password
