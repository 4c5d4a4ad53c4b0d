"""A call as the contact center tracks it live: keyed by Asterisk's linkedid, with its legs.

Private to the CTI package: other packages see a call only through the events of ``cti.events``
(``CallRecord`` when it ends, ``ScreenPop`` while it rings).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from crm_bridge.schemas import CustomerCard
from cti.events import CallRecord, LegRecord, LegRole, ScreenPop
from cti.extras import PopExtras


def now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Leg:
    uniqueid: str
    role: LegRole
    channel: str | None = None
    started_at: datetime = field(default_factory=now)
    agent: str | None = None
    answered_at: datetime | None = None
    ended_at: datetime | None = None
    hangup_cause: int | None = None

    def record(self) -> LegRecord:
        return LegRecord(
            uniqueid=self.uniqueid,
            channel=self.channel,
            role=self.role,
            agent=self.agent,
            started_at=self.started_at,
            answered_at=self.answered_at,
            ended_at=self.ended_at,
            hangup_cause=self.hangup_cause,
        )


@dataclass
class Call:
    call_id: str  # Asterisk's linkedid: the caller leg's uniqueid for an inbound call
    caller: str | None = None
    dialed: str | None = None
    channel: str | None = None  # the caller leg's channel
    started_at: datetime = field(default_factory=now)
    legs: dict[str, Leg] = field(default_factory=dict)
    customer: CustomerCard | None = None
    lookup_failed: bool = False
    ivr_path: str | None = None
    intent: str | None = None
    waybill: str | None = None  # what the caller asked about in the IVR
    work_order_id: int | None = None  # opened for them in the IVR
    pickup_reference: str | None = None  # booked by them in the IVR
    language: str | None = None
    queue: str | None = None
    priority: int = 0
    queued_at: datetime | None = None
    ringing_agent: str | None = None
    answered_at: datetime | None = None
    agent: str | None = None
    ended_at: datetime | None = None
    wait_seconds: float | None = None
    talk_seconds: float | None = None
    outcome: str | None = None
    transfer_target: str | None = None  # the agent a desk transfer is ringing (the pop follows the call)
    held_by: str | None = None  # the agent who put the caller on hold from the desk
    extras: PopExtras = field(default_factory=PopExtras)  # beside the card: contacts, shipments, work orders

    def leg(self, uniqueid: str, role: LegRole, channel: str | None = None) -> Leg:
        """The leg ``uniqueid`` (created if new; a more specific role replaces ``internal``)."""
        leg = self.legs.get(uniqueid)
        if leg is None:
            leg = self.legs[uniqueid] = Leg(uniqueid, role, channel)
        elif leg.role is LegRole.internal and role is not LegRole.internal:
            leg.role = role
        if channel and not leg.channel:
            leg.channel = channel
        return leg

    @property
    def caller_leg(self) -> Leg | None:
        return self.legs.get(self.call_id)

    def all_legs_ended(self) -> bool:
        return all(leg.ended_at is not None for leg in self.legs.values())

    def final_outcome(self) -> str:
        if self.outcome:
            return self.outcome
        if self.answered_at:
            return "answered"
        if self.queued_at:
            return "abandoned"
        return "ivr_hangup"

    def record(self) -> CallRecord:
        return CallRecord(
            call_id=self.call_id,
            caller=self.caller,
            dialed=self.dialed,
            customer_id=self.customer.id if self.customer else None,
            ivr_path=self.ivr_path,
            intent=self.intent,
            queue=self.queue,
            priority=self.priority,
            agent=self.agent,
            started_at=self.started_at,
            queued_at=self.queued_at,
            answered_at=self.answered_at,
            ended_at=self.ended_at,
            wait_seconds=self.wait_seconds,
            talk_seconds=self.talk_seconds,
            outcome=self.final_outcome(),
            legs=[leg.record() for leg in self.legs.values()],
        )

    def pop(self, agent: str, lookup_pending: bool = False) -> ScreenPop:
        t = now()
        return ScreenPop(
            call_id=self.call_id,
            agent=agent,
            caller=self.caller,
            known=self.customer is not None,
            customer=self.customer,
            lookup_failed=self.lookup_failed,
            lookup_pending=lookup_pending,
            queue=self.queue,
            intent=self.intent,
            ivr_path=self.ivr_path,
            waybill=self.waybill,
            work_order_id=self.work_order_id,
            pickup_reference=self.pickup_reference,
            language=self.language,
            recent_contacts=self.extras.recent_contacts,
            shipments=self.extras.shipments,
            work_orders=self.extras.work_orders,
            priority=self.priority,
            waited_seconds=round((t - self.queued_at).total_seconds(), 1) if self.queued_at else None,
            sent_at=t,
        )
