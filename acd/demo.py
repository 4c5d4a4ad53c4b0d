"""Demo agents (demo mode only): extensions 1001–1010, each a demo-flagged user with the agent role and a
known desk password (``agent<ext>``) and SIP password (``sip<ext>``)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from acd.models import Agent
from hotline.auth import Passwords, Role
from hotline.auth.models import User
from hotline.demo import demo_user

AGENT_NAMES = [
    "Wang Fang",
    "Li Wei",
    "Zhang Min",
    "Liu Yang",
    "Chen Jing",
    "Yang Lei",
    "Zhao Qiang",
    "Huang Li",
    "Zhou Jie",
    "Wu Xia",
]


def demo_agent_password(extension: str) -> str:
    return f"agent{extension}"


def demo_sip_password(extension: str) -> str:
    return f"sip{extension}"


def demo_extensions() -> list[str]:
    return [str(1001 + i) for i in range(len(AGENT_NAMES))]


async def load(session: AsyncSession, passwords: Passwords) -> None:
    """Idempotent: the users and agents already there are left as they are."""
    users: dict[str, User] = {}
    for ext, name in zip(demo_extensions(), AGENT_NAMES, strict=True):
        users[ext] = await demo_user(session, passwords, ext, name, demo_agent_password(ext), [Role.agent], [])
    await session.flush()
    known = set((await session.execute(select(Agent.extension))).scalars())
    for ext, name in zip(demo_extensions(), AGENT_NAMES, strict=True):
        if ext not in known:
            session.add(Agent(extension=ext, name=name, user_id=users[ext].id, sip_password=demo_sip_password(ext)))
