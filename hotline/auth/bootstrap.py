"""Accounts at start-up in production: no demo user stays enabled, and there is an admin."""

from __future__ import annotations

from sqlalchemy import select, update

from hotline.auth.models import User
from hotline.auth.passwords import Passwords
from hotline.auth.roles import Role
from hotline.db import Database
from hotline.logs import get_logger

log = get_logger(__name__)

MIN_ADMIN_PASSWORD = 12


class StartRefused(RuntimeError):
    """Production cannot start as configured; the message says what to do."""


async def disable_demo_users(db: Database) -> int:
    async with db.session() as s:
        result = await s.execute(
            update(User).where(User.demo.is_(True), User.disabled.is_(False)).values(disabled=True)
        )
        await s.commit()
    count = int(result.rowcount)  # type: ignore[attr-defined]
    if count:
        log.warning("demo users disabled (production mode)", count=count)
    return count


async def ensure_admin(db: Database, passwords: Passwords, username: str, password: str | None) -> str:
    """With ``password``: the admin user ``username`` exists, enabled, non-demo, with that password
    (created, or taken over). Without: an enabled admin must already exist. Returns what was done."""
    async with db.session() as s:
        admins = list(
            (
                await s.execute(
                    select(User.username).where(User.roles.contains([Role.admin.value]), User.disabled.is_(False))
                )
            ).scalars()
        )
        if password is None:
            if admins:
                return f"admin user(s) present: {', '.join(sorted(admins))}"
            raise StartRefused(
                "production mode needs an admin: set HOTLINE_ADMIN_PASSWORD (at least "
                f"{MIN_ADMIN_PASSWORD} characters) for the first start; it creates the user '{username}'"
            )
        if len(password) < MIN_ADMIN_PASSWORD:
            raise StartRefused(f"HOTLINE_ADMIN_PASSWORD must have at least {MIN_ADMIN_PASSWORD} characters")
        user = (await s.execute(select(User).where(User.username == username))).scalar_one_or_none()
        hashed = await passwords.ahash(password)
        if user is None:
            s.add(
                User(
                    username=username,
                    display_name="Administrator",
                    password_hash=hashed,
                    roles=[Role.admin.value],
                    supervised_queues=[],
                    disabled=False,
                    demo=False,
                )
            )
            done = f"admin user '{username}' created"
        else:
            user.password_hash = hashed
            user.roles = sorted({*user.roles, Role.admin.value})
            user.disabled, user.demo = False, False
            done = f"admin user '{username}' password set"
        await s.commit()
    log.info(done)
    return done
