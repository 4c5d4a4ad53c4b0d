"""One interaction row (and its legs) per call, stored through the durable outbox.

The sink is an idempotent upsert keyed by the call's linkedid: a record delivered twice (a crash
between the database commit and the outbox's local delete) lands once, and the controller's live record
replaces a row back-filled from Asterisk's queue_log, never the other way round.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from sqlalchemy import ColumnElement, Table
from sqlalchemy.dialects.postgresql import Insert
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from cms.models import CallLeg, Interaction
from cti.events import CallEnded, CallRecord
from hotline.columns import fit_row
from hotline.db import table_of
from hotline.logs import bind_call, get_logger
from hotline.outbox import Outbox
from ivr.events import IvrCompleted

log = get_logger(__name__)

KIND = "call"
LIVE = "live"
IVR_MEMORY = 10_000  # calls whose IVR outcome waits for their end (oldest forgotten first)


class StoredCall(CallRecord):
    """A call as stored: the call model's record and what the IVR said about it."""

    self_service: bool | None = None


def _last_per_key(rows: list[dict[str, Any]], key: str) -> list[dict[str, Any]]:
    """One row per key (the last): PostgreSQL refuses an upsert touching the same row twice in one statement."""
    return list({r[key]: r for r in rows}.values())


@cache
def _upsert(table: Table, key: str, columns: tuple[str, ...], where: ColumnElement[bool] | None = None) -> Insert:
    """The upsert of rows with these columns (built once per shape: every batch reuses it)."""
    stmt = pg_insert(table)
    return stmt.on_conflict_do_update(
        index_elements=[key], set_={c: stmt.excluded[c] for c in columns if c != key}, where=where
    )


_INTERACTIONS = table_of(Interaction)
_LEGS = table_of(CallLeg)
_NOT_LIVE = _INTERACTIONS.c.source != LIVE  # a live row wins over a back-filled one


async def store_calls(session: AsyncSession, records: list[StoredCall]) -> None:
    """Upsert interactions (a live row wins over a back-filled one) and their legs."""
    rows = _last_per_key(
        [fit_row(_INTERACTIONS, {**r.model_dump(exclude={"legs"}), "source": LIVE}) for r in records], "call_id"
    )
    await session.execute(_upsert(_INTERACTIONS, "call_id", tuple(rows[0]), _NOT_LIVE), rows)
    legs = _last_per_key(
        [fit_row(_LEGS, {"call_id": r.call_id, **leg.model_dump()}) for r in records for leg in r.legs],
        "uniqueid",
    )
    if legs:
        await session.execute(_upsert(_LEGS, "uniqueid", tuple(legs[0])), legs)


class InteractionWriter:
    def __init__(self, outbox: Outbox) -> None:
        self.outbox = outbox
        outbox.register(KIND, StoredCall, store_calls)
        self.self_service: dict[str, bool] = {}

    def on_ivr_completed(self, e: IvrCompleted) -> None:
        self.self_service[e.uniqueid] = e.self_service
        while len(self.self_service) > IVR_MEMORY:
            del self.self_service[next(iter(self.self_service))]

    async def on_call_ended(self, e: CallEnded) -> None:
        await self.store(e.record)

    async def store(self, record: CallRecord) -> None:
        stored = StoredCall(**record.model_dump(), self_service=self.self_service.pop(record.call_id, None))
        with bind_call(record.call_id):
            await self.outbox.put(KIND, stored)
            log.info("interaction kept for storing", outcome=record.outcome)
