"""Live calls, kept from AMI and IVR events, keyed by linkedid with their legs.

AMI handlers are named after the events they take; they are synchronous and cheap, so a pop leaves in
the same event-loop turn as its AgentCalled and every event about a call reaches the desk in the order
Asterisk sent it. The customer card was fetched during the IVR; if the controller missed the IVR (it
restarted mid-call) the pop leaves at once marked ``lookup_pending`` and a ``PopUpdated`` follows.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import fields
from datetime import timedelta
from typing import Any

from crm_bridge.interface import CustomerLookup
from cti.events import (
    AgentOffered,
    CallAnswered,
    CallEnded,
    CallQueued,
    CallTransferred,
    LegRole,
    OfferCancelled,
    PopUpdated,
)
from cti.extras import ExtrasLoader
from cti.model import Call, now
from hotline.ami import AmiClient
from hotline.bounded import bounded
from hotline.bus import EventBus
from hotline.channels import extension_of
from hotline.logs import bind_call, get_logger
from hotline.routing import DIRECT_QUEUE_PREFIX, QUEUE_CONTEXT, ChannelVar
from ivr.events import IvrCompleted, IvrStarted

log = get_logger(__name__)

FINALISE_DELAY = 0.5  # let the queue's closing events (AgentComplete) arrive after the last Hangup
STUCK_LEG_GRACE = 10.0  # a call whose caller left is closed even if a leg's Hangup was never seen
UP = "6"  # AMI ChannelState of an answered channel
AMI_EVENTS = (
    "Newchannel",
    "Newstate",
    "QueueCallerJoin",
    "AgentCalled",
    "AgentConnect",
    "AgentComplete",
    "AgentRingNoAnswer",
    "QueueCallerAbandon",
    "BlindTransfer",
    "AttendedTransfer",
    "UserEvent",
    "Hangup",
)


def _float(v: Any) -> float | None:
    try:
        return float(v)
    except (TypeError, ValueError):
        return None


def _int(v: Any) -> int | None:
    try:
        return int(v)
    except (TypeError, ValueError):
        return None


def _waited(call: Call, e: dict[str, Any]) -> float | None:
    """Seconds in queue until now, exact if we saw the join, else Asterisk's whole-second HoldTime."""
    return (now() - call.queued_at).total_seconds() if call.queued_at else _float(e.get("HoldTime"))


def fill_missing(live: Call, snapshot: Call) -> None:
    """Copy into ``live`` the fields it does not have from ``snapshot``; the earliest start wins."""
    for f in fields(Call):
        if f.name == "legs":
            for uid, leg in snapshot.legs.items():
                live.legs.setdefault(uid, leg)
            continue
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
        customers: CustomerLookup,
        lookup_timeout: float = 0.5,
        ami: AmiClient | None = None,
        context: str = "hotline",
        inbound_context: str = "from-carrier",
        extras: ExtrasLoader | None = None,
    ) -> None:
        self.bus = bus
        self.customers = customers
        self.ami = ami
        self.context = context  # where the dialplan keeps a hotline call (its caller channel)
        self.inbound_context = inbound_context  # where calls from the carrier arrive
        self.lookup_timeout = lookup_timeout
        self.extras = extras  # what the desk wants beside the card (contacts, shipments, work orders)
        self._tasks: set[asyncio.Task[None]] = set()
        self.calls: dict[str, Call] = {}  # linkedid → call
        self.leg_index: dict[str, str] = {}  # a leg's uniqueid → its call's linkedid
        self.pops_sent = 0
        self._resyncing = 0
        self._hung_up_during_resync: dict[str, float] = {}

    def subscribe(self) -> None:
        self.bus.subscribe(IvrStarted, self.on_ivr_started)
        self.bus.subscribe(IvrCompleted, self.on_ivr_completed)
        if self.ami is not None:
            self.register_ami(self.ami.on)
            self.ami.on_connected(self.resync)

    def register_ami(self, on: Callable[[str, Callable[[dict[str, Any]], object]], None]) -> None:
        for event in AMI_EVENTS:
            on(event, getattr(self, f"on_{event}"))

    # ---- finding calls ---------------------------------------------------------------------------
    def _call_of(self, e: dict[str, Any], create: bool = False) -> Call | None:
        """The call an app_queue event is about (its caller channel's Uniqueid/Linkedid)."""
        uid = e.get("Uniqueid")
        if not uid:
            return None
        call_id = e.get("Linkedid") or self.leg_index.get(uid) or uid
        call = self.calls.get(call_id)
        if call is None and create:
            call = self._new_call(call_id, e.get("CallerIDNum"), e.get("Channel"))
        return call

    def _new_call(self, call_id: str, caller: str | None, channel: str | None) -> Call:
        call = self.calls[call_id] = Call(call_id=call_id, caller=caller, channel=channel)
        call.leg(call_id, LegRole.caller, channel)
        self.leg_index[call_id] = call_id
        return call

    def _spawn(self, coro: Any) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # ---- channels --------------------------------------------------------------------------------
    def on_Newchannel(self, e: dict[str, Any]) -> None:
        """A carrier call starts a call; any other channel with a tracked linkedid becomes one of its legs."""
        uid = e.get("Uniqueid")
        if not uid:
            return
        call_id = e.get("Linkedid") or uid
        call = self.calls.get(call_id)
        if call is None:
            if uid != call_id or e.get("Context") != self.inbound_context:
                return
            call = self._new_call(call_id, e.get("CallerIDNum"), e.get("Channel"))
            call.dialed = e.get("Exten")
            return
        leg = call.leg(uid, LegRole.internal, e.get("Channel"))
        self.leg_index[uid] = call_id
        if call.transfer_target and extension_of(e.get("Channel")) == call.transfer_target:
            leg.role, leg.agent = LegRole.transfer, call.transfer_target

    def on_Newstate(self, e: dict[str, Any]) -> None:
        if e.get("ChannelState") != UP:
            return
        call_id = self.leg_index.get(e.get("Uniqueid") or "")
        call = self.calls.get(call_id or "")
        if call is not None:
            leg = call.legs.get(e["Uniqueid"])
            if leg is not None and leg.answered_at is None:
                leg.answered_at = now()
                if leg.role is LegRole.transfer and leg.agent:  # a desk transfer's agent answered
                    call.transfer_target = None
                    self.bus.publish(CallAnswered(agent=leg.agent, call_id=call.call_id, queue=call.queue))

    def on_Hangup(self, e: dict[str, Any]) -> None:
        uid = e.get("Uniqueid") or ""
        call_id = self.leg_index.get(uid)
        call = self.calls.get(call_id or "")
        if call is None:
            if self._resyncing:  # it may be a call the resync is about to adopt: remember it hung up
                self._hung_up_during_resync[uid] = time.monotonic()
            return
        leg = call.legs.get(uid)
        if leg is not None and leg.ended_at is None:
            leg.ended_at = now()
            leg.hangup_cause = _int(e.get("Cause"))
        if uid == call.call_id and call.ended_at is None:
            call.ended_at = ended = (leg.ended_at if leg else None) or now()
            if call.answered_at:
                call.talk_seconds = (ended - call.answered_at).total_seconds()
            asyncio.get_running_loop().call_later(STUCK_LEG_GRACE, self._finalise, call.call_id)
        if call.ended_at is not None and call.all_legs_ended():
            asyncio.get_running_loop().call_later(FINALISE_DELAY, self._finalise, call.call_id)

    # ---- the IVR ---------------------------------------------------------------------------------
    def on_ivr_started(self, e: IvrStarted) -> None:
        call_id = self.leg_index.get(e.uniqueid, e.uniqueid)
        call = self.calls.get(call_id) or self._new_call(call_id, e.caller, e.channel)
        call.channel = call.channel or e.channel
        call.customer = e.customer
        call.lookup_failed = e.lookup_failed
        if call.customer is not None:
            # while the caller is in the menu, fetch what the desk will want beside the card
            self._spawn(self._load_extras(call))

    async def _load_extras(self, call: Call) -> None:
        if self.extras is None or call.customer is None:
            return
        with bind_call(call.call_id):
            call.extras = await self.extras.load(call.customer.id)

    def on_ivr_completed(self, e: IvrCompleted) -> None:
        call = self.calls.get(self.leg_index.get(e.uniqueid, e.uniqueid))
        if call:
            call.ivr_path, call.intent = e.path, e.intent
            call.queue, call.priority = e.queue or call.queue, e.priority
            call.waybill, call.work_order_id = e.waybill, e.work_order_id
            call.language, call.pickup_reference = e.language, e.pickup_reference

    # ---- app_queue -------------------------------------------------------------------------------
    def on_QueueCallerJoin(self, e: dict[str, Any]) -> None:
        call = self._call_of(e, create=True)
        if call is not None:
            queue = e.get("Queue") or ""
            if queue and not queue.startswith(DIRECT_QUEUE_PREFIX):  # an agent's own queue is not the call's
                call.queue = queue
            call.queued_at = call.queued_at or now()  # a caller moved on to another queue waited since the first
            if call.queue:
                self.bus.publish(
                    CallQueued(
                        call_id=call.call_id,
                        queue=call.queue,
                        priority=_int(e.get("Priority")) or call.priority,
                        position=_int(e.get("Position")),
                        at=call.queued_at,
                    )
                )

    def on_AgentCalled(self, e: dict[str, Any]) -> None:
        agent = extension_of(e.get("Interface") or e.get("DestChannel"))
        call = self._call_of(e, create=True)
        if call is None or agent is None:
            return
        if e.get("DestUniqueid"):
            call.leg(e["DestUniqueid"], LegRole.agent, e.get("DestChannel")).agent = agent
            self.leg_index[e["DestUniqueid"]] = call.call_id
        call.ringing_agent = agent
        # the controller did not see this call's IVR (it restarted mid-call): pop now, the card follows
        pending = call.customer is None and not call.lookup_failed and call.ivr_path is None
        self.pops_sent += 1
        self.bus.publish(AgentOffered(pop=call.pop(agent, lookup_pending=pending)))
        if pending:
            self._spawn(self._late_lookup(call, agent))
        log.debug("screen-pop", call=call.call_id, agent=agent, customer=call.customer.id if call.customer else None)

    async def _late_lookup(self, call: Call, agent: str) -> None:
        with bind_call(call.call_id):
            try:
                call.customer = await bounded(self.customers.card_by_phone(call.caller), self.lookup_timeout)
            except Exception as exc:
                call.lookup_failed = True
                log.warning("late customer look-up failed", error=repr(exc))
            await self._load_extras(call)
            if call.ended_at is None:
                self.bus.publish(PopUpdated(pop=call.pop(agent)))

    def on_AgentRingNoAnswer(self, e: dict[str, Any]) -> None:
        call = self._call_of(e)
        agent = extension_of(e.get("Interface") or e.get("DestChannel"))
        if call and agent:
            if call.ringing_agent == agent:
                call.ringing_agent = None
            self.bus.publish(OfferCancelled(agent=agent, call_id=call.call_id, reason="no_answer"))

    def on_AgentConnect(self, e: dict[str, Any]) -> None:
        call = self._call_of(e, create=True)
        agent = extension_of(e.get("Interface") or e.get("DestChannel"))
        if call is None or agent is None:
            return
        t = now()
        if e.get("DestUniqueid"):
            leg = call.leg(e["DestUniqueid"], LegRole.agent, e.get("DestChannel"))
            leg.agent, leg.answered_at = agent, leg.answered_at or t
            self.leg_index[e["DestUniqueid"]] = call.call_id
        call.ringing_agent = None
        if call.outcome == "abandoned":  # a queue it left by timing out (a preferred agent's ring) is no abandon
            call.outcome = None
        if call.answered_at is None:  # the first agent to answer is the call's agent; later ones are legs
            call.agent, call.answered_at = agent, t
            call.wait_seconds = _waited(call, e)
        log.debug("agent connected", call=call.call_id, agent=agent, wait=call.wait_seconds)
        self.bus.publish(
            CallAnswered(agent=agent, call_id=call.call_id, queue=call.queue, wait_seconds=call.wait_seconds)
        )

    def on_AgentComplete(self, e: dict[str, Any]) -> None:
        call = self._call_of(e)
        if call:
            if call.talk_seconds is None:  # whole seconds; the hangup gives the exact figure
                call.talk_seconds = _float(e.get("TalkTime"))
            call.agent = call.agent or extension_of(e.get("Interface"))

    def on_QueueCallerAbandon(self, e: dict[str, Any]) -> None:
        call = self._call_of(e)
        if call:
            call.outcome = "abandoned"
            call.wait_seconds = _waited(call, e)
            if call.ringing_agent:
                self.bus.publish(OfferCancelled(agent=call.ringing_agent, call_id=call.call_id, reason="abandoned"))
                call.ringing_agent = None

    def on_BlindTransfer(self, e: dict[str, Any]) -> None:
        if e.get("Result", "Success") != "Success":
            return
        self._mark_transfer(
            e.get("TransfereeLinkedid") or e.get("TransfererLinkedid"),
            extension_of(e.get("TransfererChannel")),
            "blind",
            e.get("Extension"),
        )

    def on_AttendedTransfer(self, e: dict[str, Any]) -> None:
        if e.get("Result", "Success") != "Success":
            return
        call = self.calls.get(e.get("OrigTransfererLinkedid") or "")
        if call is not None:
            target = e.get("SecondTransfererUniqueid")
            if target and target in call.legs:
                call.legs[target].role = LegRole.consult
        self._mark_transfer(
            e.get("OrigTransfererLinkedid"),
            extension_of(e.get("OrigTransfererChannel")),
            "attended",
            extension_of(e.get("TransferTargetChannel")) or e.get("DestExten"),
        )

    def _mark_transfer(self, call_id: str | None, agent: str | None, kind: str, target: str | None) -> None:
        call = self.calls.get(call_id or "")
        if call is not None:
            with bind_call(call.call_id):
                log.info("call transferred", agent=agent, kind=kind, target=target)
            self.bus.publish(CallTransferred(call_id=call.call_id, agent=agent, kind=kind, target=target))

    def on_UserEvent(self, e: dict[str, Any]) -> None:
        if e.get("UserEvent") == "HotlineOutcome":
            call = self._call_of(e, create=True)
            if call:
                call.outcome = e.get("Outcome") or call.outcome
        elif e.get("UserEvent") == "HotlineTransferOffer":
            # the dialplan is about to ring an agent a desk transfer names: the pop follows the call
            call = self._call_of(e)
            agent = e.get("Agent")
            if call is not None and agent:
                call.transfer_target = agent
                self.pops_sent += 1
                self.bus.publish(AgentOffered(pop=call.pop(agent)))

    # ---- the end ---------------------------------------------------------------------------------
    def _finalise(self, call_id: str) -> None:
        call = self.calls.pop(call_id, None)
        if call is None:
            return
        for uid in call.legs:
            self.leg_index.pop(uid, None)
        call.ended_at = call.ended_at or now()
        log.info(  # the one line per call at INFO: the rest of its journey is at DEBUG
            "call ended",
            call=call_id,
            outcome=call.final_outcome(),
            agent=call.agent,
            queue=call.queue,
            wait=call.wait_seconds,
            talk=call.talk_seconds,
            legs=len(call.legs),
        )
        self.bus.publish(CallEnded(record=call.record()))

    # ---- after a (re)connection ------------------------------------------------------------------
    async def resync(self) -> None:
        """Adopt the calls Asterisk carries that we do not know (the controller restarted mid-call), so that
        their pops, interaction rows and recordings are not lost. Times we did not witness are estimated
        from Asterisk's channel durations and queue waits. Calls we track that Asterisk no longer has ended
        while we were disconnected: they are closed now rather than kept forever. A Hangup that arrives
        while we ask Asterisk is remembered, so a call that ends meanwhile is not adopted as a phantom."""
        if self.ami is None:
            return
        self._resyncing += 1
        try:
            await self._resync()
        finally:
            self._resyncing -= 1
            if not self._resyncing:
                self._hung_up_during_resync.clear()

    async def _resync(self) -> None:
        assert self.ami is not None
        known_before = [cid for cid, call in self.calls.items() if call.ended_at is None]
        try:
            channels = (await self.ami.action("CoreShowChannels", as_list=True)).get("events", [])
            entries = (await self.ami.action("QueueStatus", as_list=True)).get("events", [])
        except Exception as e:
            log.warning("live-call resync skipped", error=repr(e))
            return
        channels = [c for c in channels if c.get("Event") == "CoreShowChannel" and c.get("Uniqueid")]
        alive = {c["Uniqueid"] for c in channels}
        for call_id in known_before:
            call = self.calls.get(call_id)
            if call_id not in alive and call is not None and call.ended_at is None:
                call.ended_at = now()  # its hang-up was missed: the end time is when we noticed
                self._finalise(call_id)
        waits = {e.get("Uniqueid"): float(e.get("Wait") or 0) for e in entries if e.get("Event") == "QueueEntry"}
        adopted = 0
        for ch in channels:
            uid = ch["Uniqueid"]
            if uid in self.calls or ch.get("Context") not in (self.context, QUEUE_CONTEXT) or uid != ch.get("Linkedid"):
                continue
            call = await self._adopt(ch, channels, waits)
            if uid in self._hung_up_during_resync and uid not in self.calls:
                self._close_adopted(call)  # it ended while we were asking: no phantom live call, but its row
                continue
            live = self.calls.setdefault(uid, call)
            if live is not call:  # live events created it meanwhile: they are fresher than the snapshot
                fill_missing(live, call)
            for leg_uid in live.legs:
                self.leg_index[leg_uid] = uid
            adopted += 1
            with bind_call(uid):
                log.info("live call adopted", caller=call.caller, agent=call.agent, queued=call.queued_at is not None)
        if adopted:
            log.info("live calls resynced", adopted=adopted)

    def _close_adopted(self, call: Call) -> None:
        t = now()
        self.calls[call.call_id] = call
        for uid, leg in call.legs.items():
            self.leg_index[uid] = call.call_id
            if leg.ended_at is None and uid in self._hung_up_during_resync:
                leg.ended_at = t
        call.ended_at = t
        if call.answered_at:
            call.talk_seconds = (t - call.answered_at).total_seconds()
        self._finalise(call.call_id)

    async def _adopt(self, ch: dict[str, Any], channels: list[dict[str, Any]], waits: dict[Any, float]) -> Call:
        uid = ch["Uniqueid"]
        t = now()
        call = Call(
            call_id=uid,
            caller=ch.get("CallerIDNum"),
            channel=ch.get("Channel"),
            started_at=t - timedelta(seconds=_duration(ch.get("Duration"))),
        )
        call.leg(uid, LegRole.caller, ch.get("Channel")).started_at = call.started_at
        for other in channels:
            if other.get("Linkedid") == uid and other["Uniqueid"] != uid:
                leg = call.leg(other["Uniqueid"], LegRole.internal, other.get("Channel"))
                leg.started_at = t - timedelta(seconds=_duration(other.get("Duration")))
        if uid in waits:
            call.queued_at = t - timedelta(seconds=waits[uid])
        elif ch.get("BridgeId"):
            peer = next((c for c in channels if c.get("BridgeId") == ch["BridgeId"] and c["Uniqueid"] != uid), None)
            if peer is not None:
                call.agent = extension_of(peer.get("Channel"))
                call.answered_at = t - timedelta(seconds=_duration(peer.get("Duration")))
                leg = call.leg(peer["Uniqueid"], LegRole.agent, peer.get("Channel"))
                leg.agent, leg.answered_at = call.agent, call.answered_at
        await self._restore_ivr_facts(call)
        await self._load_extras(call)
        return call

    async def _restore_ivr_facts(self, call: Call) -> None:
        """What the IVR left in the channel's variables, and the customer card it named."""
        assert self.ami is not None
        facts: dict[str, str] = {}
        wanted = (
            ChannelVar.ivr_path,
            ChannelVar.intent,
            ChannelVar.queue,
            ChannelVar.priority,
            ChannelVar.customer_id,
            ChannelVar.waybill,
            ChannelVar.work_order_id,
            ChannelVar.language,
        )
        for var in wanted:
            try:
                reply = await self.ami.action("Getvar", Channel=call.channel, Variable=var.value)
            except Exception:
                continue
            if reply.get("Value"):
                facts[var] = str(reply["Value"])
        call.ivr_path, call.intent = facts.get(ChannelVar.ivr_path), facts.get(ChannelVar.intent)
        call.queue = facts.get(ChannelVar.queue)
        call.waybill, call.language = facts.get(ChannelVar.waybill), facts.get(ChannelVar.language)
        order = facts.get(ChannelVar.work_order_id, "")
        call.work_order_id = int(order) if order.isdigit() else None
        priority = facts.get(ChannelVar.priority, "")
        call.priority = int(priority) if priority.isdigit() else 0
        customer_id = facts.get(ChannelVar.customer_id, "")
        try:
            lookup = (
                self.customers.card_by_id(int(customer_id))
                if customer_id.isdigit()
                else self.customers.card_by_phone(call.caller)
            )
            call.customer = await bounded(lookup, self.lookup_timeout)
        except Exception as e:
            call.lookup_failed = True
            with bind_call(call.call_id):
                log.warning("customer look-up for an adopted call failed", error=repr(e))
