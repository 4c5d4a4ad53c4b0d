"""Live calls, kept from AMI and IVR events; publishes ``cti.screen_pop`` and ``call.ended``.

Handlers are named after the events they take. They are synchronous and cheap, so the pop for
AgentCalled leaves within the same event-loop turn: the customer card was fetched during the IVR,
and is only looked up here when the controller missed the IVR (it restarted mid-call).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import fields
from datetime import timedelta
from typing import Any

from crm_bridge.service import CustomerDirectory
from cti.calls import Call, extension_of, now
from cti.screenpop import build_pop
from hotline.ami import AmiClient
from hotline.bus import EventBus
from hotline.logs import bind_call, get_logger

log = get_logger(__name__)

HistoryLookup = Callable[[int], Awaitable[list[dict[str, Any]]]]
FINALISE_DELAY = 0.5  # let the queue's closing events (AgentComplete) arrive after the caller's Hangup


def _float(v: Any) -> float | None:
    try:
        return float(v)
    except (TypeError, ValueError):
        return None


def _waited(call: Call, e: dict[str, Any]) -> float | None:
    """Seconds in queue until now, exact if we saw the join, else Asterisk's whole-second HoldTime."""
    return (now() - call.queued_at).total_seconds() if call.queued_at else _float(e.get("HoldTime"))


def fill_missing(live: Call, snapshot: Call) -> None:
    """Copy into ``live`` the fields it does not have from ``snapshot``; the earliest start wins."""
    for f in fields(Call):
        if getattr(live, f.name) in (None, [], False, 0) and getattr(snapshot, f.name) not in (None, [], False, 0):
            setattr(live, f.name, getattr(snapshot, f.name))
    live.started_at = min(live.started_at, snapshot.started_at)


def _duration(hms: str | None) -> float:
    """'01:02:03' → 3723.0 (CoreShowChannel's Duration); 0 when unreadable."""
    try:
        h, m, sec = (int(x) for x in (hms or "").split(":"))
        return h * 3600 + m * 60 + sec
    except ValueError:
        return 0.0


class CallRegistry:
    def __init__(
        self,
        bus: EventBus,
        customers: CustomerDirectory,
        lookup_timeout: float = 0.5,
        ami: AmiClient | None = None,
        context: str = "hotline",
        inbound_context: str = "from-carrier",
        history: HistoryLookup | None = None,
    ) -> None:
        self.bus = bus
        self.customers = customers
        self.ami = ami
        self.context = context  # where the dialplan keeps a hotline call (its caller channel)
        self.inbound_context = inbound_context  # where calls from the carrier arrive
        self.lookup_timeout = lookup_timeout
        self.history = history
        self._tasks: set[asyncio.Task[None]] = set()
        self.calls: dict[str, Call] = {}
        self.pops_sent = 0

    def subscribe(self) -> None:
        self.bus.subscribe("ami.connected", self.resync)
        for name in ("ivr.started", "ivr.done"):
            self.bus.subscribe(name, getattr(self, "on_" + name.replace(".", "_")))
        for event in (
            "Newchannel",
            "QueueCallerJoin",
            "AgentCalled",
            "AgentConnect",
            "AgentComplete",
            "AgentRingNoAnswer",
            "QueueCallerAbandon",
            "UserEvent",
            "Hangup",
        ):
            self.bus.subscribe(f"ami.{event}", getattr(self, f"on_{event}"))

    def _get(self, uniqueid: str | None, caller: str | None = None, create: bool = False) -> Call | None:
        if not uniqueid:
            return None
        call = self.calls.get(uniqueid)
        if call is None and create:
            call = self.calls[uniqueid] = Call(uniqueid=uniqueid, caller=caller)
        return call

    # IVR facts
    # a call arriving from the carrier: measured from its first moment, whatever happens next
    def on_Newchannel(self, _: str, e: dict[str, Any]) -> None:
        if e.get("Context") != self.inbound_context or not e.get("Uniqueid"):
            return
        call = self._get(e["Uniqueid"], e.get("CallerIDNum"), create=True)
        assert call is not None
        call.channel, call.dialed = e.get("Channel"), e.get("Exten")

    def on_ivr_started(self, _: str, e: dict[str, Any]) -> None:
        call = self._get(e["uniqueid"], e.get("caller"), create=True)
        assert call is not None
        call.channel = e.get("channel")
        call.customer = e.get("customer")
        call.lookup_failed = bool(e.get("lookup_failed"))
        if call.customer is not None and self.history is not None:
            # while the caller is in the menu, fetch what the desk will want: their recent contacts
            task = asyncio.create_task(self._load_history(call))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _load_history(self, call: Call) -> None:
        assert self.history is not None and call.customer is not None
        try:
            async with asyncio.timeout(2 * self.lookup_timeout):
                call.history = await self.history(call.customer.id)
        except Exception as e:
            with bind_call(call.uniqueid):
                log.warning("recent contacts not loaded", error=repr(e))

    def on_ivr_done(self, _: str, e: dict[str, Any]) -> None:
        call = self._get(e["uniqueid"])
        if call:
            call.ivr_path, call.intent = e.get("path"), e.get("intent")
            call.queue, call.priority = e.get("queue") or call.queue, int(e.get("priority") or 0)

    # queue events (app_queue)
    def on_QueueCallerJoin(self, _: str, e: dict[str, Any]) -> None:
        call = self._get(e.get("Uniqueid"), e.get("CallerIDNum"), create=True)
        assert call is not None
        call.queue = e.get("Queue") or call.queue
        call.queued_at = now()

    async def on_AgentCalled(self, _: str, e: dict[str, Any]) -> None:
        agent = extension_of(e.get("Interface"))
        call = self._get(e.get("Uniqueid"), e.get("CallerIDNum"), create=True)
        if call is None or agent is None:
            return
        with bind_call(call.uniqueid):
            call.ringing_agent = agent
            if call.customer is None and not call.lookup_failed and call.ivr_path is None:
                # the controller did not see this call's IVR: look the caller up now, briefly
                try:
                    async with asyncio.timeout(self.lookup_timeout):
                        call.customer = await self.customers.card_by_phone(call.caller)
                except Exception as exc:
                    call.lookup_failed = True
                    log.warning("late customer look-up failed", error=repr(exc))
            self.pops_sent += 1
            self.bus.publish("cti.screen_pop", {"agent": agent, "pop": build_pop(call, agent)})
            log.info("screen-pop", agent=agent, customer=call.customer.id if call.customer else None)

    def on_AgentRingNoAnswer(self, _: str, e: dict[str, Any]) -> None:
        call = self._get(e.get("Uniqueid"))
        agent = extension_of(e.get("Interface"))
        if call and agent:
            self.bus.publish("cti.pop_cancelled", {"agent": agent, "call_id": call.uniqueid, "reason": "no_answer"})

    def on_AgentConnect(self, _: str, e: dict[str, Any]) -> None:
        call = self._get(e.get("Uniqueid"), e.get("CallerIDNum"), create=True)
        assert call is not None
        call.agent = extension_of(e.get("Interface"))
        call.answered_at = now()
        call.wait_seconds = _waited(call, e)
        with bind_call(call.uniqueid):
            log.info("agent connected", agent=call.agent, wait=call.wait_seconds)
        self.bus.publish("cti.call_answered", {"agent": call.agent, "call_id": call.uniqueid})

    def on_AgentComplete(self, _: str, e: dict[str, Any]) -> None:
        call = self._get(e.get("Uniqueid"))
        if call:
            if call.talk_seconds is None:  # whole seconds; the hangup gives the exact figure
                call.talk_seconds = _float(e.get("TalkTime"))
            call.agent = call.agent or extension_of(e.get("Interface"))

    def on_QueueCallerAbandon(self, _: str, e: dict[str, Any]) -> None:
        call = self._get(e.get("Uniqueid"))
        if call:
            call.outcome = "abandoned"
            call.wait_seconds = _waited(call, e)
            if call.ringing_agent:
                self.bus.publish(
                    "cti.pop_cancelled", {"agent": call.ringing_agent, "call_id": call.uniqueid, "reason": "abandoned"}
                )

    def on_UserEvent(self, _: str, e: dict[str, Any]) -> None:
        if e.get("UserEvent") == "HotlineOutcome":
            call = self._get(e.get("Uniqueid"), e.get("CallerIDNum"), create=True)
            if call:
                call.outcome = e.get("Outcome") or call.outcome

    def on_Hangup(self, _: str, e: dict[str, Any]) -> None:
        call = self._get(e.get("Uniqueid"))
        if call is None or call.ended_at is not None:
            return
        call.ended_at = now()
        if call.answered_at:
            call.talk_seconds = (call.ended_at - call.answered_at).total_seconds()
        asyncio.get_running_loop().call_later(FINALISE_DELAY, self._finalise, call.uniqueid)

    def _finalise(self, uniqueid: str) -> None:
        call = self.calls.pop(uniqueid, None)
        if call is None:
            return
        with bind_call(uniqueid):
            log.info(
                "call ended",
                outcome=call.final_outcome(),
                agent=call.agent,
                wait=call.wait_seconds,
                talk=call.talk_seconds,
            )
        self.bus.publish("call.ended", {"call": call})

    # after a (re)connection
    async def resync(self, *_: Any) -> None:
        """Adopt the calls Asterisk carries that we do not know (the controller restarted mid-call), so that
        their pops, interaction rows and recordings are not lost. Times we did not witness are estimated
        from Asterisk's channel durations and queue waits. Calls we track that Asterisk no longer has ended
        while we were disconnected: they are closed now rather than kept forever."""
        if self.ami is None:
            return
        known_before = [uid for uid, call in self.calls.items() if call.ended_at is None]
        try:
            channels = (await self.ami.action("CoreShowChannels", as_list=True)).get("events", [])
            entries = (await self.ami.action("QueueStatus", as_list=True)).get("events", [])
        except Exception as e:
            log.warning("live-call resync skipped", error=repr(e))
            return
        alive = {c.get("Uniqueid") for c in channels}
        for uid in known_before:
            call = self.calls.get(uid)
            if uid not in alive and call is not None and call.ended_at is None:
                call.ended_at = now()  # its hang-up was missed: the end time is when we noticed
                self._finalise(uid)
        waits = {e.get("Uniqueid"): float(e.get("Wait") or 0) for e in entries if e.get("Event") == "QueueEntry"}
        channels = [c for c in channels if c.get("Event") == "CoreShowChannel"]
        adopted = 0
        for ch in channels:
            uid = ch.get("Uniqueid")
            if not uid or uid in self.calls or ch.get("Context") != self.context or uid != ch.get("Linkedid"):
                continue
            t = now()
            call = Call(
                uniqueid=uid,
                caller=ch.get("CallerIDNum"),
                channel=ch.get("Channel"),
                started_at=t - timedelta(seconds=_duration(ch.get("Duration"))),
            )
            if uid in waits:
                call.queued_at = t - timedelta(seconds=waits[uid])
            elif ch.get("BridgeId"):
                peer = next(
                    (c for c in channels if c.get("BridgeId") == ch["BridgeId"] and c.get("Uniqueid") != uid), None
                )
                if peer is not None:
                    call.agent = extension_of(peer.get("Channel"))
                    call.answered_at = t - timedelta(seconds=_duration(peer.get("Duration")))
            await self._restore_ivr_facts(call)
            if call.customer is not None and self.history is not None:
                await self._load_history(call)
            # live events (AgentConnect, …) may have created the call while we were asking Asterisk:
            # they are fresher than this snapshot, which only fills in what they lack
            live = self.calls.setdefault(uid, call)
            if live is not call:
                fill_missing(live, call)
            adopted += 1
            with bind_call(uid):
                log.info("live call adopted", caller=call.caller, agent=call.agent, queued=call.queued_at is not None)
        if adopted:
            log.info("live calls resynced", adopted=adopted)

    async def _restore_ivr_facts(self, call: Call) -> None:
        """What the IVR left in the channel's variables, and the customer card it named."""
        assert self.ami is not None
        facts: dict[str, str] = {}
        for var in ("HOTLINE_IVR_PATH", "HOTLINE_INTENT", "HOTLINE_QUEUE", "HOTLINE_PRIORITY", "HOTLINE_CUSTOMER_ID"):
            try:
                reply = await self.ami.action("Getvar", Channel=call.channel, Variable=var)
            except Exception:
                continue
            if reply.get("Value"):
                facts[var] = str(reply["Value"])
        call.ivr_path, call.intent = facts.get("HOTLINE_IVR_PATH"), facts.get("HOTLINE_INTENT")
        call.queue = facts.get("HOTLINE_QUEUE")
        priority = facts.get("HOTLINE_PRIORITY", "")
        call.priority = int(priority) if priority.isdigit() else 0
        customer_id = facts.get("HOTLINE_CUSTOMER_ID", "")
        try:
            async with asyncio.timeout(self.lookup_timeout):
                call.customer = (
                    await self.customers.card_by_id(int(customer_id))
                    if customer_id.isdigit()
                    else await self.customers.card_by_phone(call.caller)
                )
        except Exception as e:
            call.lookup_failed = True
            log.warning("customer look-up for an adopted call failed", error=repr(e))
