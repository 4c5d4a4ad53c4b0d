"""Server-side sessions behind opaque bearer tokens.

A token is 256 random bits; the database keeps only its SHA-256, with the user, a snapshot of their
roles, and created / expires / last-seen / address / revoked. Validated sessions are kept in memory,
so a database outage logs nobody out: only a token never seen by this process needs the database.
Revocations are applied in memory first (and remembered there until the sessions expire), then written.
"""

from __future__ import annotations

import asyncio
import hashlib
import secrets
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update

from hotline.auth.models import User, UserSession
from hotline.auth.principal import Principal
from hotline.auth.roles import Role
from hotline.db import Database
from hotline.errors import ServiceUnavailable
from hotline.logs import get_logger

log = get_logger(__name__)

TOKEN_BYTES = 32
TOUCH_EVERY = 60.0  # seconds between two last-seen writes for one session
MAX_TOKEN_LENGTH = 128
PRUNE_ABOVE = 10_000  # cached sessions before expired ones are swept at the next sign-in


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _roles(values: list[str]) -> frozenset[Role]:
    return frozenset(Role(v) for v in values if v in Role.__members__)


class Sessions:
    def __init__(
        self, db: Database, ttl: float = 12 * 3600, now: Callable[[], datetime] = lambda: datetime.now(UTC)
    ) -> None:
        self.db = db
        self.ttl = timedelta(seconds=ttl)
        self.now = now
        self._cache: dict[str, Principal] = {}
        self._revoked: set[str] = set()  # token hashes revoked by this process
        self._revoked_before: dict[int, datetime] = {}  # user id → sessions created before are void
        self._touched: dict[int, float] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    def _principal(self, user: User, row: UserSession) -> Principal:
        return Principal(
            user_id=user.id,
            username=user.username,
            display_name=user.display_name,
            roles=_roles(row.roles),
            supervised_queues=frozenset(user.supervised_queues),
            session_id=row.id,
            token_hash=row.token_hash,
            created_at=row.created_at,
            expires_at=row.expires_at,
        )

    async def issue(self, user: User, address: str | None) -> tuple[str, Principal]:
        if len(self._cache) > PRUNE_ABOVE:
            self.prune()
        token = secrets.token_urlsafe(TOKEN_BYTES)
        now = self.now()
        row = UserSession(
            token_hash=token_hash(token),
            user_id=user.id,
            roles=list(user.roles),
            created_at=now,
            expires_at=now + self.ttl,
            last_seen_at=now,
            address=address,
        )
        await self._store(row)
        principal = self._principal(user, row)
        self._cache[row.token_hash] = principal
        return token, principal

    async def _store(self, row: UserSession) -> None:
        async with self.db.session() as s:
            s.add(row)
            await s.commit()
        if row.id is None:
            raise RuntimeError("session row was not assigned an id")

    def _void(self, p: Principal) -> bool:
        cutoff = self._revoked_before.get(p.user_id)
        if cutoff is not None and p.created_at <= cutoff:
            return True
        return p.expires_at <= self.now() or p.token_hash in self._revoked

    async def validate(self, token: str) -> Principal | None:
        """The session's principal, or None if the token is unknown, expired or revoked.

        Raises ServiceUnavailable only for a token this process has never seen while the database is away."""
        if not token or len(token) > MAX_TOKEN_LENGTH or not token.isascii():
            return None
        key = token_hash(token)
        principal = self._cache.get(key)
        if principal is None:
            principal = await self._load(key)
            if principal is None:
                return None
        self._cache[key] = principal  # revoked sessions stay cached (as void) until they expire
        if self._void(principal):
            if principal.expires_at <= self.now():
                self._cache.pop(key, None)
            return None
        self._touch(principal)
        return principal

    async def _load(self, key: str) -> Principal | None:
        try:
            async with self.db.session() as s:
                found = (
                    await s.execute(
                        select(UserSession, User)
                        .join(User, User.id == UserSession.user_id)
                        .where(UserSession.token_hash == key)
                    )
                ).first()
        except Exception as e:
            log.warning("session look-up failed", error=repr(e))
            raise ServiceUnavailable("sign-in cannot be checked right now; try again shortly") from e
        if found is None:
            return None
        row, user = found
        if row.revoked_at is not None or user.disabled:
            return None
        return self._principal(user, row)

    def _touch(self, p: Principal) -> None:
        """Record last-seen, at most once a minute per session, in the background, best effort."""
        now = time.monotonic()
        if now - self._touched.get(p.session_id, -TOUCH_EVERY) < TOUCH_EVERY:
            return
        self._touched[p.session_id] = now

        async def write() -> None:
            try:
                async with self.db.session() as s:
                    await s.execute(
                        update(UserSession).where(UserSession.id == p.session_id).values(last_seen_at=self.now())
                    )
                    await s.commit()
            except Exception as e:
                log.debug("last-seen not written", session=p.session_id, error=repr(e))

        task = asyncio.get_running_loop().create_task(write())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def alive(self, p: Principal) -> bool:
        """Whether a session validated earlier still stands (no database: revocation is in memory)."""
        return not self._void(p)

    async def revoke(self, p: Principal) -> None:
        """Sign one session out: void at once in memory, then written."""
        self._revoked.add(p.token_hash)
        await self._write_revocation(UserSession.id == p.session_id)

    async def revoke_user(self, user_id: int) -> int:
        """Void every session of a user (disabled, roles or password changed, or an admin's request)."""
        self._revoked_before[user_id] = self.now()
        return await self._write_revocation(UserSession.user_id == user_id)

    async def _write_revocation(self, where: object) -> int:
        try:
            async with self.db.session() as s:
                result = await s.execute(
                    update(UserSession)
                    .where(where, UserSession.revoked_at.is_(None))  # type: ignore[arg-type]
                    .values(revoked_at=self.now())
                )
                await s.commit()
                return int(result.rowcount)  # type: ignore[attr-defined]
        except Exception as e:
            log.warning("revocation not written (applied in memory)", error=repr(e))
            raise ServiceUnavailable("revoked here, but could not be recorded; try again shortly") from e

    async def of_user(self, user_id: int) -> list[UserSession]:
        async with self.db.session() as s:
            return list(
                (
                    await s.execute(
                        select(UserSession).where(UserSession.user_id == user_id).order_by(UserSession.id.desc())
                    )
                ).scalars()
            )

    def prune(self) -> int:
        """Forget expired sessions (and their revocations); returns how many are left cached."""
        now = self.now()
        expired = [k for k, p in self._cache.items() if p.expires_at <= now]
        for key in expired:
            del self._cache[key]
            self._revoked.discard(key)
        horizon = now - self.ttl
        for user_id in [u for u, t in self._revoked_before.items() if t <= horizon]:
            del self._revoked_before[user_id]
        return len(self._cache)
