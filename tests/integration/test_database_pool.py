"""The connection pool against the real database: a connection that rested is checked before use, so a read
after a database restart does not fail on a dead one; a connection in constant use is not pinged at all, and
the one used last is used next; a read session holds no transaction."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import text
from sqlalchemy.dialects.postgresql.asyncpg import AsyncAdapt_asyncpg_connection

import hotline.db
from hotline.db import Database
from hotline.pgcluster import LocalCluster
from tests.integration.faults import stopped


@pytest.fixture
async def database(pg_url: str) -> AsyncIterator[Database]:
    db = Database(pg_url)
    yield db
    await db.close()


@pytest.fixture
def pings(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """The connections pinged before use, in order (every ping still goes to the server)."""
    pinged: list[object] = []
    real_ping = AsyncAdapt_asyncpg_connection.ping

    def counting_ping(self: AsyncAdapt_asyncpg_connection) -> None:
        pinged.append(self)
        real_ping(self)

    monkeypatch.setattr(AsyncAdapt_asyncpg_connection, "ping", counting_ping)
    return pinged


async def select_one(db: Database) -> int:
    async with db.session() as s:
        return int((await s.execute(text("SELECT 1"))).scalar_one())


async def test_a_read_after_a_database_restart_gets_a_live_connection(
    database: Database, pg_cluster: LocalCluster, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(hotline.db, "IDLE_PING_AFTER", 0.2)
    assert await asyncio.gather(*(select_one(database) for _ in range(3))) == [1, 1, 1]  # three pooled connections
    with stopped(pg_cluster):
        pass  # every pooled connection's server process is gone
    await asyncio.sleep(0.3)
    # no back() here: the pool itself must notice, connection by connection
    assert await asyncio.gather(*(select_one(database) for _ in range(3))) == [1, 1, 1]


async def test_only_a_connection_that_rested_is_pinged(
    database: Database, pings: list[object], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(hotline.db, "IDLE_PING_AFTER", 0.3)
    await select_one(database)
    for _ in range(50):
        await select_one(database)
    assert pings == []  # in constant use: never pinged (SQLAlchemy's pre-ping would have pinged 50 times)
    await asyncio.sleep(0.5)
    assert await select_one(database) == 1
    assert len(pings) == 1  # it rested: pinged once before use


async def test_steady_use_after_a_burst_keeps_to_one_connection_and_pings_none(
    database: Database, pings: list[object], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Last in, first out: after a burst opened three connections, calls 0.15 s apart reuse the one used last;
    taken in turn (first in, first out) each would rest 0.45 s, past the 0.3 s that earns a ping."""
    monkeypatch.setattr(hotline.db, "IDLE_PING_AFTER", 0.3)
    assert await asyncio.gather(*(select_one(database) for _ in range(3))) == [1, 1, 1]
    for _ in range(8):
        await asyncio.sleep(0.15)
        assert await select_one(database) == 1
    assert pings == []


async def test_a_read_session_runs_each_statement_on_its_own(database: Database) -> None:
    """No transaction around a look-up (no BEGIN/ROLLBACK round trips): now() moves between two statements of
    one read session, where a transaction would give its start time twice."""
    async with database.read() as s:
        first = (await s.execute(text("SELECT now()"))).scalar_one()
        await asyncio.sleep(0.05)
        second = (await s.execute(text("SELECT now()"))).scalar_one()
    assert second > first
    async with database.session() as s:  # the ordinary session is one transaction
        first = (await s.execute(text("SELECT now()"))).scalar_one()
        await asyncio.sleep(0.05)
        assert (await s.execute(text("SELECT now()"))).scalar_one() == first
