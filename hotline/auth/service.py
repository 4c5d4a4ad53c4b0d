"""Sign-in and user management: the behaviour, no HTTP."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from hotline.auth.models import User, UserSession
from hotline.auth.passwords import Passwords
from hotline.auth.principal import Principal
from hotline.auth.ratelimit import LoginLimiter
from hotline.auth.roles import Role
from hotline.auth.sessions import Sessions
from hotline.db import Database
from hotline.errors import Conflict, NotFound, TooManyRequests, Unauthorized
from hotline.logs import get_logger

log = get_logger(__name__)

WRONG = "wrong username or password"


def _values(roles: Iterable[Role]) -> list[str]:
    return sorted({Role(r).value for r in roles})


class Accounts:
    def __init__(self, db: Database, passwords: Passwords, sessions: Sessions, limiter: LoginLimiter) -> None:
        self.db = db
        self.passwords = passwords
        self.sessions = sessions
        self.limiter = limiter

    async def _user(self, username: str) -> User | None:
        async with self.db.session() as s:
            return (await s.execute(select(User).where(User.username == username))).scalar_one_or_none()

    async def login(self, username: str, password: str, address: str) -> tuple[str, Principal]:
        """A new session, or the same 401 (after the same work) for an unknown user, a disabled user
        and a wrong password; 429 once the user or the address has failed too often."""
        wait = self.limiter.retry_after(username, address)
        if wait is not None:
            log.warning("log-in throttled", username=username, address=address)
            raise TooManyRequests(f"too many failed log-ins: try again in {round(wait + 0.5)} s", wait)
        user = await self._user(username)
        stored = user.password_hash if user is not None else await self.passwords.adummy()
        ok = await self.passwords.averify(password, stored)
        if not ok or user is None or user.disabled:
            self.limiter.failed(username, address)
            log.info("log-in refused", username=username, address=address)
            raise Unauthorized(WRONG)
        self.limiter.succeeded(username)
        if self.passwords.needs_rehash(stored):
            await self._set_hash(user.id, await self.passwords.ahash(password))
            log.info("password hash upgraded", username=username)
        token, principal = await self.sessions.issue(user, address)
        log.info("signed in", username=username, roles=sorted(r.value for r in principal.roles), address=address)
        return token, principal

    async def logout(self, principal: Principal) -> None:
        await self.sessions.revoke(principal)
        log.info("signed out", username=principal.username)

    async def _set_hash(self, user_id: int, new_hash: str) -> None:
        async with self.db.session() as s:
            user = await s.get(User, user_id)
            if user is not None:
                user.password_hash, user.updated_at = new_hash, datetime.now(UTC)
                await s.commit()

    # ---- management (admins) -----------------------------------------------------------------
    async def users(self) -> list[User]:
        async with self.db.session() as s:
            return list((await s.execute(select(User).order_by(User.username))).scalars())

    async def get(self, username: str) -> User:
        user = await self._user(username)
        if user is None:
            raise NotFound(f"no user {username}")
        return user

    async def create(
        self,
        username: str,
        display_name: str,
        password: str,
        roles: Iterable[Role],
        supervised_queues: Iterable[str] = (),
        demo: bool = False,
    ) -> User:
        now = datetime.now(UTC)
        user = User(
            created_at=now,
            updated_at=now,
            username=username,
            display_name=display_name,
            password_hash=await self.passwords.ahash(password),
            roles=_values(roles),
            supervised_queues=sorted(set(supervised_queues)),
            disabled=False,
            demo=demo,
        )
        try:
            async with self.db.session() as s:
                s.add(user)
                await s.commit()
        except IntegrityError as e:
            raise Conflict(f"user {username} exists") from e
        log.info("user created", username=username, roles=user.roles)
        return user

    async def update(
        self,
        username: str,
        display_name: str | None = None,
        roles: Iterable[Role] | None = None,
        supervised_queues: Iterable[str] | None = None,
        disabled: bool | None = None,
    ) -> User:
        """Changes a user; a change of roles, queues or a disabling signs all their sessions out."""
        async with self.db.session() as s:
            user = (await s.execute(select(User).where(User.username == username))).scalar_one_or_none()
            if user is None:
                raise NotFound(f"no user {username}")
            revoke = False
            if display_name is not None:
                user.display_name = display_name
            if roles is not None and _values(roles) != sorted(user.roles):
                user.roles, revoke = _values(roles), True
            if supervised_queues is not None and sorted(set(supervised_queues)) != sorted(user.supervised_queues):
                user.supervised_queues, revoke = sorted(set(supervised_queues)), True
            if disabled is not None and disabled != user.disabled:
                user.disabled, revoke = disabled, revoke or disabled
            user.updated_at = datetime.now(UTC)
            await s.commit()
        if revoke:
            await self.sessions.revoke_user(user.id)
        log.info("user updated", username=username, sessions_revoked=revoke)
        return user

    async def reset_password(self, username: str, password: str) -> None:
        user = await self.get(username)
        await self._set_hash(user.id, await self.passwords.ahash(password))
        await self.sessions.revoke_user(user.id)
        log.info("password reset", username=username)

    async def revoke(self, username: str) -> int:
        user = await self.get(username)
        count = await self.sessions.revoke_user(user.id)
        log.info("sessions revoked", username=username, count=count)
        return count

    async def sessions_of(self, username: str) -> list[UserSession]:
        return await self.sessions.of_user((await self.get(username)).id)
