"""Passwords (argon2, legacy scrypt, rehash), the log-in limiter, the session cache and revocation,
and the declaration of every route's access."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI

from hotline.auth import Argon2Cost, Passwords, Role, Sessions
from hotline.auth.access import PUBLIC, declarations, undeclared_routes
from hotline.auth.models import User
from hotline.auth.passwords import legacy_scrypt_hash
from hotline.auth.ratelimit import LoginLimiter, SlidingWindow
from hotline.errors import ServiceUnavailable

CHEAP = Argon2Cost(time_cost=1, memory_cost=8192, parallelism=1)


# ---- passwords -------------------------------------------------------------------------------------
def test_argon2_round_trip_and_salt() -> None:
    pw = Passwords(CHEAP)
    stored = pw.hash("s3cret")
    assert stored.startswith("$argon2id$") and "m=8192,t=1,p=1" in stored
    assert pw.verify("s3cret", stored)
    assert not pw.verify("s3cret ", stored) and not pw.verify("", stored)
    assert pw.hash("same") != pw.hash("same")


def test_legacy_scrypt_is_verified_and_always_needs_rehash() -> None:
    pw = Passwords(CHEAP)
    legacy = legacy_scrypt_hash("agent1001")
    assert legacy.startswith("scrypt$")
    assert pw.verify("agent1001", legacy) and not pw.verify("agent1002", legacy)
    assert pw.needs_rehash(legacy)


def test_needs_rehash_only_when_weaker_than_configured() -> None:
    weak, strong = Passwords(CHEAP), Passwords(Argon2Cost(time_cost=2, memory_cost=16384, parallelism=1))
    weak_hash, strong_hash = weak.hash("x"), strong.hash("x")
    assert strong.needs_rehash(weak_hash)
    assert not strong.needs_rehash(strong_hash)
    assert not weak.needs_rehash(strong_hash)  # stronger than configured: left as is
    assert not weak.needs_rehash(weak_hash)
    assert weak.verify("x", strong_hash)  # parameters are read from the hash


@pytest.mark.parametrize(
    "stored",
    ["", "plaintext", "scrypt$00", "scrypt$00$11$22", "scrypt$not-hex$" + "00" * 32, "$argon2id$v=19$garbage"],
)
def test_malformed_stored_hash_is_a_mismatch(stored: str) -> None:
    pw = Passwords(CHEAP)
    assert pw.verify("s3cret", stored) is False
    assert pw.needs_rehash(stored)


async def test_dummy_hash_has_the_configured_cost_and_matches_nothing() -> None:
    pw = Passwords(CHEAP)
    dummy = await pw.adummy()
    assert dummy is pw.dummy_hash and not pw.needs_rehash(dummy)
    assert not await pw.averify("", dummy)


# ---- rate limiting ---------------------------------------------------------------------------------
class Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def test_sliding_window_limits_and_recovers() -> None:
    clock = Clock()
    w = SlidingWindow(3, 60, clock=clock)
    for _ in range(3):
        assert w.retry_after("k") is None
        w.hit("k")
        clock.t += 10
    assert w.retry_after("k") == pytest.approx(30)  # the first hit (t=1000) leaves the window at 1060
    clock.t = 1060.5
    assert w.retry_after("k") is None
    assert w.retry_after("other") is None


def test_sliding_window_forgets_the_oldest_keys_beyond_its_bound() -> None:
    w = SlidingWindow(1, 60, max_keys=100, clock=Clock())
    for i in range(1000):
        w.hit(f"addr{i}")
    assert len(w._hits) == 100
    assert w.retry_after("addr999") is not None and w.retry_after("addr0") is None


def test_login_limiter_per_user_and_per_address() -> None:
    clock = Clock()
    limiter = LoginLimiter(per_user=5, per_address=20, window=300, clock=clock)
    for _ in range(5):
        limiter.failed("1001", "10.0.0.1")
    assert limiter.retry_after("1001", "10.0.0.2") is not None  # the user, from anywhere
    assert limiter.retry_after("1001".upper(), "10.0.0.2") is not None
    assert limiter.retry_after("1002", "10.0.0.1") is None  # the address is under its own limit
    for i in range(15):
        limiter.failed(f"u{i}", "10.0.0.1")
    assert limiter.retry_after("1002", "10.0.0.1") is not None  # 20 failures from one address
    assert limiter.retry_after("1002", "10.0.0.3") is None
    limiter.succeeded("1001")
    assert limiter.retry_after("1001", "10.0.0.2") is None
    clock.t += 301
    assert limiter.retry_after("1002", "10.0.0.1") is None


# ---- sessions --------------------------------------------------------------------------------------
class FakeResult:
    rowcount = 1

    def first(self) -> None:
        return None


class FakeSession:
    def __init__(self, db: FakeDb) -> None:
        self.db = db

    def add(self, row: Any) -> None:
        self.db.added.append(row)
        row.id = len(self.db.added)

    async def commit(self) -> None:
        return None

    async def execute(self, stmt: Any) -> FakeResult:
        self.db.statements.append(str(stmt))
        return FakeResult()


class FakeDb:
    """Accepts writes; ``down`` makes every session fail as an unreachable database does."""

    def __init__(self) -> None:
        self.down = False
        self.added: list[Any] = []
        self.statements: list[str] = []

    @asynccontextmanager
    async def session(self) -> AsyncIterator[FakeSession]:
        if self.down:
            raise ConnectionRefusedError("database down")
        yield FakeSession(self)


def _user(uid: int = 1, name: str = "1001", roles: tuple[str, ...] = ("agent",)) -> User:
    return User(id=uid, username=name, display_name=name, roles=list(roles), supervised_queues=[], disabled=False)


async def test_validated_sessions_survive_a_database_outage_but_new_tokens_need_it() -> None:
    db = FakeDb()
    sessions = Sessions(db, ttl=3600)  # type: ignore[arg-type]
    token, issued = await sessions.issue(_user(), "127.0.0.1")
    assert len(token) >= 43  # 32 random bytes, url-safe base64
    assert db.added[0].token_hash != token and len(db.added[0].token_hash) == 64  # stored hashed
    db.down = True
    principal = await sessions.validate(token)
    assert principal == issued and principal.roles == frozenset({Role.agent})
    with pytest.raises(ServiceUnavailable):
        await sessions.validate("never-seen-by-this-process")
    assert await sessions.validate("") is None and await sessions.validate("é" * 10) is None


async def test_revocation_applies_in_memory_at_once_even_when_the_write_fails() -> None:
    db = FakeDb()
    sessions = Sessions(db)  # type: ignore[arg-type]
    t1, p1 = await sessions.issue(_user(), None)
    t2, _ = await sessions.issue(_user(), None)
    t3, _ = await sessions.issue(_user(2, "1002"), None)
    await sessions.revoke(p1)
    assert await sessions.validate(t1) is None  # the database would not be asked (cache says revoked)
    assert any("revoked_at" in s for s in db.statements)
    db.down = True
    with pytest.raises(ServiceUnavailable):
        await sessions.revoke_user(1)
    assert await sessions.validate(t2) is None
    assert await sessions.validate(t3) is not None  # another user's session stands


async def test_expired_session_is_refused() -> None:
    now = [datetime(2026, 11, 24, tzinfo=UTC)]
    sessions = Sessions(FakeDb(), ttl=60, now=lambda: now[0])  # type: ignore[arg-type]
    token, p = await sessions.issue(_user(), None)
    assert await sessions.validate(token) is not None and sessions.alive(p)
    now[0] += timedelta(seconds=61)
    assert await sessions.validate(token) is None and not sessions.alive(p)


# ---- every route declares its access ---------------------------------------------------------------
def _app(tmp_path: Path) -> FastAPI:
    from hotline.app import Controller
    from hotline.config import Settings

    return Controller(Settings(var_dir=tmp_path)).build_api()


def test_every_route_of_the_app_declares_who_may_call_it(tmp_path: Path) -> None:
    app = _app(tmp_path)
    assert undeclared_routes(app) == []
    declared = dict(declarations(app))
    assert declared["/healthz"] == PUBLIC and declared["/static"] == PUBLIC and declared["/openapi.json"] == PUBLIC
    assert declared["/api/users"] == frozenset({Role.admin})
    assert declared["/ws/agent"] == frozenset({Role.agent})
    assert declared["/api/recordings/access-log"] == frozenset({Role.admin})


def test_a_route_without_declaration_is_found(tmp_path: Path) -> None:
    app = _app(tmp_path)

    @app.get("/api/forgotten")
    async def forgotten() -> dict[str, str]:
        return {}

    @app.websocket("/ws/forgotten")
    async def forgotten_ws(ws: Any) -> None:
        return None

    assert undeclared_routes(app) == ["/api/forgotten", "/ws/forgotten"]


async def test_prune_forgets_expired_sessions_and_their_revocations() -> None:
    now = [datetime(2026, 11, 24, tzinfo=UTC)]
    sessions = Sessions(FakeDb(), ttl=60, now=lambda: now[0])  # type: ignore[arg-type]
    _, old = await sessions.issue(_user(), None)
    await sessions.revoke(old)
    await sessions.revoke_user(1)
    now[0] += timedelta(seconds=30)
    live_token, _ = await sessions.issue(_user(2, "1002"), None)
    assert sessions.prune() == 2
    now[0] += timedelta(seconds=45)
    assert sessions.prune() == 1  # the first one expired; its revocation is forgotten with it
    assert sessions._revoked == set() and sessions._revoked_before == {}
    assert await sessions.validate(live_token) is not None
