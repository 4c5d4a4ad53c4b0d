"""The floor's statistics fed live: bus events (cti's calls, acd's agent states), app_queue's membership
events, a rebuild at start (today's stored calls) and on every AMI (re)connection (QueueStatus: the
callers waiting and the members now), and a one-second tick for the thresholds that move with time
(the longest wait) and for the day's rollover.

Every change is handed to the listeners (the wallboard) in the same event-loop turn as the fact, so a
wallboard update leaves with the AMI event that caused it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime, time
from typing import Any

from acd.events import AgentStateChanged
from cms.interface import CallsEnded
from cti.events import (
    AgentOffered,
    CallAnswered,
    CallEnded,
    CallHeld,
    CallQueued,
    CallTransferred,
    OfferCancelled,
)
from floor.events import QueueAlertCleared, QueueAlertRaised
from floor.stats import Changes, EndedCall, FloorStats
from hotline.ami import AmiClient
from hotline.background import Periodic
from hotline.bus import EventBus
from hotline.channels import extension_of
from hotline.errors import first_line
from hotline.logs import get_logger

log = get_logger(__name__)

Listener = Callable[[Changes], None]
AMI_EVENTS = ("QueueMemberAdded", "QueueMemberRemoved")
DAY_RETRY = 10.0  # seconds between attempts to read today's calls while the database is away


def ended_call(e: CallEnded) -> EndedCall:
    r = e.record
    handled = tuple(
        (leg.agent, ((leg.ended_at or r.ended_at or leg.answered_at) - leg.answered_at).total_seconds())
        for leg in r.legs
        if leg.agent and leg.answered_at
    )
    if not handled and r.agent and r.answered_at:
        handled = ((r.agent, r.talk_seconds or 0.0),)
    return EndedCall(
        call_id=r.call_id,
        queue=r.queue,
        queued=r.queued_at is not None,
        answered=r.answered_at is not None,
        wait_seconds=r.wait_seconds,
        handled_by=handled,
    )


class Floor:
    def __init__(
        self,
        stats: FloorStats,
        bus: EventBus,
        ami: AmiClient | None = None,
        calls: CallsEnded | None = None,
        tick: float = 1.0,
    ) -> None:
        self.stats = stats
        self.bus = bus
        self.ami = ami
        self.calls = calls
        self.listeners: list[Listener] = []
        self.day_loaded = calls is None
        self._day_tried = 0.0
        self._loading: asyncio.Task[None] | None = None
        self.ticker = Periodic("floor-tick", self.on_tick, every=tick)

    # ---- wiring -----------------------------------------------------------------------------------
    def subscribe(self) -> None:
        b = self.bus
        b.subscribe(CallQueued, self.on_call_queued)
        b.subscribe(AgentOffered, self.on_agent_offered)
        b.subscribe(OfferCancelled, self.on_offer_cancelled)
        b.subscribe(CallAnswered, self.on_call_answered)
        b.subscribe(CallTransferred, self.on_call_transferred)
        b.subscribe(CallHeld, self.on_call_held)
        b.subscribe(CallEnded, self.on_call_ended)
        b.subscribe(AgentStateChanged, self.on_agent_state)
        if self.ami is not None:
            self.ami.on("QueueMemberAdded", self.on_QueueMemberAdded)
            self.ami.on("QueueMemberRemoved", self.on_QueueMemberRemoved)
            self.ami.on_connected(self.resync)

    def on_call_queued(self, e: CallQueued) -> None:
        self._apply(self.stats.call_queued(e.call_id, e.queue, e.at))

    def on_agent_offered(self, e: AgentOffered) -> None:
        self._apply(self.stats.offered_to(e.pop.agent, e.pop.call_id))

    def on_offer_cancelled(self, e: OfferCancelled) -> None:
        self._apply(self.stats.offer_cancelled(e.agent, e.call_id))

    def on_call_answered(self, e: CallAnswered) -> None:
        self._apply(self.stats.call_answered(e.call_id, e.agent, e.queue, e.wait_seconds))

    def on_call_held(self, e: CallHeld) -> None:
        self._apply(self.stats.call_held(e.agent, e.call_id, e.held))

    def on_call_transferred(self, e: CallTransferred) -> None:
        self._apply(self.stats.call_transferred(e.call_id, e.agent))

    def on_call_ended(self, e: CallEnded) -> None:
        self._apply(self.stats.call_ended(ended_call(e), e.record.ended_at))

    def on_agent_state(self, e: AgentStateChanged) -> None:
        self._apply(self.stats.agent_state(e.agent, e.state, e.pause_reason, e.since))

    def on_QueueMemberAdded(self, e: dict[str, Any]) -> None:
        agent = extension_of(e.get("Interface") or e.get("StateInterface"))
        if agent and e.get("Queue"):
            self._apply(self.stats.member_added(e["Queue"], agent))

    def on_QueueMemberRemoved(self, e: dict[str, Any]) -> None:
        agent = extension_of(e.get("Interface") or e.get("StateInterface"))
        if agent and e.get("Queue"):
            self._apply(self.stats.member_removed(e["Queue"], agent))

    def _apply(self, changes: Changes) -> None:
        self._check_alerts()
        if changes:
            for listener in self.listeners:
                listener(changes)

    # ---- alerts -----------------------------------------------------------------------------------
    def _check_alerts(self) -> None:
        at = self.stats.clock()
        for a in self.stats.check_alerts():
            kind = QueueAlertRaised if a.raised else QueueAlertCleared
            log.info("queue alert " + ("raised" if a.raised else "cleared"), queue=a.queue, kind=a.kind, value=a.value)
            self.bus.publish(kind(queue=a.queue, kind=a.kind, value=a.value, threshold=a.threshold, at=at))

    async def on_tick(self) -> None:
        self._apply(self.stats.roll_day())
        if not self.day_loaded and (self._loading is None or self._loading.done()):
            # apart from the tick: a database that does not answer must not hold up the alerts
            self._loading = asyncio.create_task(self.load_day(), name="floor-load-day")

    # ---- rebuilding -------------------------------------------------------------------------------
    def midnight(self) -> datetime:
        now = self.stats.clock().astimezone(self.stats.config.zone)
        return datetime.combine(now.date(), time(0), tzinfo=self.stats.config.zone)

    async def load_day(self) -> None:
        """Today's stored calls, once (retried while the database is away)."""
        if self.calls is None or self.day_loaded:
            return
        loop_now = asyncio.get_running_loop().time()
        if self._day_tried and loop_now - self._day_tried < DAY_RETRY:
            return
        self._day_tried = loop_now
        try:
            rows = await asyncio.wait_for(self.calls.ended_since(self.midnight()), 10)
        except Exception as e:
            log.warning("today's calls not read; the wallboard counts from now until they are", error=first_line(e))
            return
        self.day_loaded = True
        calls = [
            (
                EndedCall(
                    call_id=r.call_id,
                    queue=r.queue,
                    queued=r.queued_at is not None or r.outcome in ("answered", "abandoned"),
                    answered=r.answered_at is not None,
                    wait_seconds=r.wait_seconds,
                    handled_by=tuple(r.handled_by),
                ),
                r.ended_at or self.stats.clock(),
            )
            for r in rows
        ]
        self._apply(self.stats.load_day(calls))
        log.info("today's calls counted", calls=len(calls))

    async def resync(self) -> None:
        """app_queue's members and waiting callers as Asterisk has them now."""
        if self.ami is None:
            return
        try:
            reply = await self.ami.action("QueueStatus", as_list=True)
        except Exception as e:
            log.warning("queue status not read", error=first_line(e))
            return
        members: dict[str, set[str]] = {}
        waiting: dict[str, tuple[str, float]] = {}
        for ev in reply.get("events", []):
            queue = ev.get("Queue")
            if not queue:
                continue
            kind = ev.get("Event")
            if kind == "QueueParams":
                members.setdefault(queue, set())
            elif kind == "QueueMember":
                agent = extension_of(ev.get("StateInterface") or ev.get("Location") or ev.get("Interface"))
                if agent:
                    members.setdefault(queue, set()).add(agent)
            elif kind == "QueueEntry":
                call_id = ev.get("Linkedid") or ev.get("Uniqueid")
                if call_id:
                    waiting[call_id] = (queue, float(ev.get("Wait") or 0))
        self._apply(self.stats.load_asterisk(members, waiting))

    async def start(self) -> None:
        self.ticker.start()  # its first tick reads today's calls

    async def stop(self) -> None:
        await self.ticker.stop()
        if self._loading is not None:
            self._loading.cancel()
