"""The hot look-ups' fast path over the real database: the same rows as SQLAlchemy's (its type processors:
enums, arrays, floats, numerics), bound defaults, one compilation per statement, an expanding IN refused, and
a look-up cut short leaves no connection mid-query in the pool."""

from __future__ import annotations

import asyncio
import enum
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from sqlalchemy import (
    Column,
    DateTime,
    Enum,
    Float,
    Integer,
    MetaData,
    Numeric,
    String,
    Table,
    Text,
    any_,
    bindparam,
    func,
    literal,
    select,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY

from hotline.bounded import bounded
from hotline.db import Database


class Mood(enum.Enum):
    calm = "calm"
    busy = "busy"


meta = MetaData()
probe = Table(
    "fastread_probe",
    meta,
    Column("id", Integer, primary_key=True),
    Column("mood", Enum(Mood, name="fastread_mood")),
    Column("tags", ARRAY(String)),
    Column("score", Float),
    Column("amount", Numeric(10, 2)),
    Column("at", DateTime(timezone=True)),
    Column("note", Text),
)
AT = datetime(2026, 11, 24, 8, 30, tzinfo=UTC)


@pytest.fixture
async def table(db: Database) -> AsyncIterator[Database]:
    async with db.engine.begin() as conn:
        await conn.run_sync(meta.drop_all)
        await conn.run_sync(meta.create_all)
        await conn.execute(
            probe.insert(),
            [
                {"id": 1, "mood": Mood.calm, "tags": ["a", "b"], "score": 1.5, "amount": Decimal("2.50"), "at": AT},
                {"id": 2, "mood": Mood.busy, "tags": [], "score": None, "amount": None, "at": AT, "note": "x"},
                {"id": 3, "mood": None, "tags": None, "score": 0.25, "amount": Decimal("7"), "at": None},
            ],
        )
    yield db
    async with db.engine.begin() as conn:
        await conn.run_sync(meta.drop_all)


async def _sqlalchemy_rows(db: Database, statement, params) -> list[tuple]:  # type: ignore[no-untyped-def]
    async with db.read() as s:
        return [tuple(r) for r in (await s.execute(statement, params)).all()]


async def test_rows_are_sqlalchemys_rows(table: Database) -> None:
    db = table
    statement = (
        select(probe, func.cardinality(probe.c.tags).label("n_tags"))
        .where(
            probe.c.id >= bindparam("from_id"),
            probe.c.note.is_(None) | (probe.c.note == any_(literal(["x"], ARRAY(String)))),
        )
        .order_by(probe.c.id)
        .limit(2)  # a bound default: not passed at the call
    )
    fast = await db.fetch(statement, {"from_id": 1})
    assert [tuple(r) for r in fast] == await _sqlalchemy_rows(db, statement, {"from_id": 1})
    first = fast[0]
    assert (first.mood, first.tags, first.score, first.amount, first.at) == (
        Mood.calm,
        ["a", "b"],
        1.5,
        Decimal("2.50"),
        AT,
    )
    assert first.n_tags == 2 and fast[1].mood is Mood.busy
    again = await db.fetch(statement, {"from_id": 2})
    assert [r.id for r in again] == [2, 3]
    assert db.fast.compiled(statement) is db.fast.compiled(statement)  # compiled once for the statement


async def test_an_expanding_in_is_refused_with_the_way_out(table: Database) -> None:
    with pytest.raises(ValueError, match="ANY"):
        await table.fetch(select(probe.c.id).where(probe.c.id.in_([1, 2])), {})


async def test_a_look_up_cut_short_leaves_no_connection_mid_query_in_the_pool(db: Database) -> None:
    await db.engine.dispose()
    backend = select(func.pg_backend_pid().label("pid"))
    (first,) = await db.fetch(backend, {})
    slow = select(func.pg_sleep(bindparam("seconds", type_=Float)).label("slept"))
    with pytest.raises(TimeoutError):  # on the same pooled connection (the pool hands out the last one back)
        await bounded(db.fetch(slow, {"seconds": 5.0}), 0.3)
    gone = text("SELECT count(*) FROM pg_stat_activity WHERE pid = :pid")
    for _ in range(100):  # the cancellation finishes in the background (bounded does not wait for it)
        async with db.read() as s:
            if (await s.execute(gone, {"pid": first.pid})).scalar() == 0:
                break
        await asyncio.sleep(0.05)
    else:
        raise AssertionError("the connection cut short mid-query is still open")
    (second,) = await db.fetch(backend, {})
    assert second.pid != first.pid  # the next look-up has a fresh connection
