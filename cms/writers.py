"""Writers of the CMS facts: every queue event (batched), and one interaction row per call."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import insert
from sqlalchemy.dialects.postgresql import insert as pg_insert

from cms.models import Interaction, QueueEvent
from cti.calls import Call, extension_of
from hotline.bus import EventBus
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

    def __init__(self, bus: EventBus, db: Database) -> None:
        self.bus = bus
        self.db = db
        self.pending: list[dict[str, Any]] = []
        self.wakeup = asyncio.Event()
        self.written = 0
        self.dropped = 0
        self._task: asyncio.Task[None] | None = None

    def subscribe(self) -> None:
        for name in QUEUE_EVENTS:
            self.bus.subscribe(f"ami.{name}", self.on_event)

    def on_event(self, name: str, e: dict[str, Any]) -> None:
        interface = e.get("Interface") or e.get("MemberName")
        self.pending.append(
            {
                "at": event_time(e),
                "event": name.removeprefix("ami."),
                "queue": e.get("Queue"),
                "uniqueid": e.get("Uniqueid"),
                "agent": extension_of(interface) or interface,
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


class InteractionWriter:
    def __init__(self, bus: EventBus, db: Database) -> None:
        self.bus = bus
        self.db = db

    def subscribe(self) -> None:
        self.bus.subscribe("call.ended", self.on_call_ended)

    async def on_call_ended(self, _: str, e: dict[str, Any]) -> None:
        call: Call = e["call"]
        row = call.snapshot()

        async def store() -> None:
            async with self.db.session() as s:
                stmt = pg_insert(Interaction).values(**row).on_conflict_do_nothing(index_elements=["call_id"])
                await s.execute(stmt)
                await s.commit()

        with bind_call(call.uniqueid):
            await with_retries("store interaction", store)
            log.info("interaction stored", outcome=row["outcome"])
