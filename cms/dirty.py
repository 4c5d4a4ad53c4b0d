"""Marking aggregate rows to recount, in the transaction that changed their facts."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from cms.facts import INTERVAL, bucket_of
from cms.models import DirtyInterval
from hotline.db import table_of

QUEUE, AGENT, STATE = "queue", "agent", "state"


def call_keys(bucket: datetime, queue: str, agent: str) -> list[dict[str, object]]:
    """The aggregate rows a call counts in: its queue's interval and, if answered, its agent's."""
    keys: list[dict[str, object]] = [{"kind": QUEUE, "bucket": bucket, "queue": queue, "agent": ""}]
    if agent:
        keys.append({"kind": AGENT, "bucket": bucket, "queue": queue, "agent": agent})
    return keys


def span_keys(agent: str, started: datetime, ended: datetime) -> list[dict[str, object]]:
    """The agent-state interval rows a state span touches."""
    keys: list[dict[str, object]] = [{"kind": STATE, "bucket": bucket_of(started), "queue": "", "agent": agent}]
    b = bucket_of(started) + INTERVAL
    while b < ended:
        keys.append({"kind": STATE, "bucket": b, "queue": "", "agent": agent})
        b += INTERVAL
    return keys


_MARK = pg_insert(table_of(DirtyInterval)).on_conflict_do_nothing()


async def mark(session: AsyncSession, keys: Iterable[dict[str, object]]) -> None:
    rows = list({(k["kind"], k["bucket"], k["queue"], k["agent"]): k for k in keys}.values())
    if rows:
        await session.execute(_MARK, rows)
