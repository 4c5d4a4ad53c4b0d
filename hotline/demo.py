"""Demo mode's data (never loaded in production): every package's demo data, plus a demo supervisor and a
demo admin with known passwords. Every demo user is demo-flagged, so a production start disables them.

Each package keeps its own demo data in ``<package>/demo.py`` (a ``load(session, passwords)`` coroutine);
this module only runs them, in the order of ``hotline.plugins.PACKAGES``, in one transaction.
"""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.auth import Passwords, Role
from hotline.auth.models import User
from hotline.db import Database
from hotline.plugins import package_modules

DEMO_QUEUE = "support"
# username → (display name, password, roles, supervised queues)
STAFF: dict[str, tuple[str, str, list[Role], list[str]]] = {
    "demo-supervisor": ("Demo Supervisor", "demo-supervisor", [Role.supervisor], [DEMO_QUEUE]),
    "demo-admin": ("Demo Admin", "demo-admin", [Role.admin], []),
}

_hashes: dict[tuple[str, object], str] = {}


async def _hash(passwords: Passwords, password: str) -> str:
    """Demo passwords are hashed once per process and cost (loading the demo again is then instant)."""
    key = (password, passwords.cost)
    if key not in _hashes:
        _hashes[key] = await passwords.ahash(password)
    return _hashes[key]


async def demo_user(
    session: AsyncSession,
    passwords: Passwords,
    username: str,
    display: str,
    password: str,
    roles: list[Role],
    queues: list[str],
) -> User:
    """The demo user ``username``, created (demo-flagged) if missing."""
    user = (await session.execute(select(User).where(User.username == username))).scalar_one_or_none()
    if user is None:
        user = User(
            username=username,
            display_name=display,
            password_hash=await _hash(passwords, password),
            roles=[r.value for r in roles],
            supervised_queues=queues,
            disabled=False,
            demo=True,
        )
        session.add(user)
    return user


async def load_demo_data(db: Database, passwords: Passwords | None = None) -> None:
    passwords = passwords or Passwords()
    async with db.session() as s:
        for username, (display, password, roles, queues) in STAFF.items():
            await demo_user(s, passwords, username, display, password, roles, queues)
        for module in package_modules("demo"):
            await module.load(s, passwords)
        # demo mode: demo users disabled by an earlier production start work again
        await s.execute(update(User).where(User.demo.is_(True)).values(disabled=False))
        await s.commit()
