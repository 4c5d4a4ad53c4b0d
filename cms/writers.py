"""Writers of the CMS facts: every queue event (batched), and one interaction row per call."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import insert
from sqlalchemy.dialects.postgresql import insert as pg_insert

from cms.models import CallLeg, Interaction, QueueEvent
from cti.events import CallEnded
from hotline.db import Database
from hotline.logs import bind_call, get_logger
from hotline.retry import with_retries

log = get_logger(__name__)

QUEUE_EVENTS = (
    "QueueCallerJoin",
    "QueueCallerLeave",
    "QueueCallerAbandon",
    "AgentCalled",
    "AgentConnect",
    "AgentComplete",
    "AgentRingNoAnswer",
    "AgentDump",
    "QueueMemberAdded",
    "QueueMemberRemoved",
    "QueueMemberPause",
)
# the fields kept in queue_events.data; the rest of an AMI event is channel noise
DATA_FIELDS = (
    "CallerIDNum",
    "Position",
    "Count",
    "OriginalPosition",
    "HoldTime",
    "TalkTime",
    "RingTime",
    "Reason",
    "Paused",
    "PausedReason",
    "Priority",
    "DestChannel",
    "Channel",
)
MAX_BACKLOG = 50_000


def event_time(e: dict[str, Any]) -> datetime:
    """Asterisk's own time of the event (manager.conf timestampevents), else now."""
    try:
        return datetime.fromtimestamp(float(e["Timestamp"]), UTC)
    except (KeyError, TypeError, ValueError, OverflowError, OSError):
        return datetime.now(UTC)


class QueueEventWriter:
    """Stores queue events in batches so a burst costs one INSERT, and a database outage costs a backlog
    (bounded, oldest dropped with an error) rather than lost events or a blocked event loop."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.pending: list[dict[str, Any]] = []
        self.wakeup = asyncio.Event()
        self.written = 0
        self.dropped = 0
        self._task: asyncio.Task[None] | None = None

    def on_event(self, e: dict[str, Any]) -> None:
        interface = e.get("Interface") or e.get("MemberName")
        self.pending.append(
            {
                "at": event_time(e),
                "event": e.get("Event"),
                "queue": e.get("Queue"),
                "uniqueid": e.get("Uniqueid"),
                "agent": _agent(interface),
                "data": {k: e[k] for k in DATA_FIELDS if e.get(k) not in (None, "")},
            }
        )
        if len(self.pending) > MAX_BACKLOG:
            drop = len(self.pending) - MAX_BACKLOG
            del self.pending[:drop]
            self.dropped += drop
            log.error("queue-event backlog full: oldest events dropped", dropped=drop)
        self.wakeup.set()

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self.flush()

    async def _run(self) -> None:
        while True:
            await self.wakeup.wait()
            self.wakeup.clear()
            try:
                await self.flush()
            except Exception as e:
                log.warning("queue events not stored yet; will retry", backlog=len(self.pending), error=repr(e))
                await asyncio.sleep(1.0)
                self.wakeup.set()

    async def flush(self) -> None:
        if not self.pending:
            return
        batch, self.pending = self.pending, []
        try:
            async with self.db.session() as s:
                await s.execute(insert(QueueEvent), batch)
                await s.commit()
            self.written += len(batch)
        except BaseException:
            self.pending[:0] = batch
            raise


def _agent(interface: str | None) -> str | None:
    """'PJSIP/1001' → '1001'; anything else as it is."""
    if interface and "/" in interface:
        return interface.split("/", 1)[1].split("-", 1)[0] or interface
    return interface


class InteractionWriter:
    """One interaction row per call, with its legs."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def on_call_ended(self, e: CallEnded) -> None:
        record = e.record
        row = record.model_dump(exclude={"legs"})
        legs = [{"call_id": record.call_id, **leg.model_dump()} for leg in record.legs]

        async def store() -> None:
            async with self.db.session() as s:
                stmt = pg_insert(Interaction).values(**row).on_conflict_do_nothing(index_elements=["call_id"])
                await s.execute(stmt)
                if legs:
                    await s.execute(pg_insert(CallLeg).values(legs).on_conflict_do_nothing(index_elements=["uniqueid"]))
                await s.commit()

        with bind_call(record.call_id):
            await with_retries("store interaction", store)
            log.info("interaction stored", outcome=record.outcome)
