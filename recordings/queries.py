"""Reading the catalogue: the ``RECORDINGS`` service for other packages, and the filtered, scoped list and
transcript search the routes serve."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, select

from hotline.db import Database
from recordings.interface import RecordedCall
from recordings.models import Recording


def recorded_call(r: Recording) -> RecordedCall:
    return RecordedCall(
        recording_id=r.id,
        call_id=r.call_id,
        agent=r.agent,
        queue=r.queue,
        customer_id=r.customer_id,
        started_at=r.created_at,
        duration_seconds=r.duration_seconds,
    )


class RecordedCallsService:
    """Implements ``recordings.interface.RecordedCalls``."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def recorded_calls(self, since: datetime, until: datetime, agent: str | None = None) -> list[RecordedCall]:
        stmt = (
            select(Recording)
            .where(Recording.purged_at.is_(None), Recording.created_at >= since, Recording.created_at < until)
            .order_by(Recording.created_at, Recording.id)
        )
        if agent is not None:
            stmt = stmt.where(Recording.agent == agent)
        async with self.db.session() as s:
            return [recorded_call(r) for r in (await s.execute(stmt)).scalars()]

    async def get(self, recording_id: int) -> RecordedCall | None:
        async with self.db.session() as s:
            r = await s.get(Recording, recording_id)
        return None if r is None else recorded_call(r)


def ts_query(q: str) -> Any:
    """Words as typed, every one required (``websearch_to_tsquery``: quotes and ``-`` work too)."""
    return func.websearch_to_tsquery("simple", q)


def filtered(
    stmt: Select[Any],
    *,
    agent: str | None = None,
    queue: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    q: str | None = None,
    purged: bool = False,
) -> Select[Any]:
    if agent:
        stmt = stmt.where(Recording.agent == agent)
    if queue:
        stmt = stmt.where(Recording.queue == queue)
    if since is not None:
        stmt = stmt.where(Recording.created_at >= since)
    if until is not None:
        stmt = stmt.where(Recording.created_at < until)
    if q:
        stmt = stmt.where(Recording.transcript_tsv.op("@@")(ts_query(q)))
    if not purged:
        stmt = stmt.where(Recording.purged_at.is_(None))
    return stmt


def snippet(q: str) -> Any:
    """The transcript's passage around the words found, words in «»."""
    return func.ts_headline(
        "simple",
        func.coalesce(Recording.transcript, ""),
        ts_query(q),
        "StartSel=«, StopSel=», MaxWords=20, MinWords=5",
    )
