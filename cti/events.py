"""What the CTI package tells the rest of the system about calls (its public contract)."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict

from crm_bridge.schemas import CustomerCard
from hotline.events import Event
from shipments.schemas import ShipmentSummary
from workorders.schemas import WorkOrderSummary


class LegRole(enum.StrEnum):
    caller = "caller"  # the channel that called the hotline
    agent = "agent"  # a queue member's channel (rung or connected)
    transfer = "transfer"  # a channel a transfer brought into the call
    consult = "consult"  # an agent's consultation call before an attended transfer
    outbound = "outbound"  # a call the centre placed (callback, survey)
    internal = "internal"  # any other channel of the call (local channels, …)


class LegRecord(BaseModel):
    model_config = ConfigDict(frozen=True)

    uniqueid: str
    channel: str | None = None
    role: LegRole
    agent: str | None = None
    started_at: datetime
    answered_at: datetime | None = None
    ended_at: datetime | None = None
    hangup_cause: int | None = None


class CallRecord(BaseModel):
    """A whole call as it ended: keyed by Asterisk's linkedid, with every leg."""

    model_config = ConfigDict(frozen=True)

    call_id: str
    caller: str | None = None
    dialed: str | None = None
    customer_id: int | None = None
    ivr_path: str | None = None
    intent: str | None = None
    queue: str | None = None
    priority: int = 0
    agent: str | None = None  # the agent who answered (the first, if it was transferred)
    started_at: datetime
    queued_at: datetime | None = None
    answered_at: datetime | None = None
    ended_at: datetime | None = None
    wait_seconds: float | None = None
    talk_seconds: float | None = None
    outcome: str  # answered, abandoned, voicemail, ivr_hangup
    legs: list[LegRecord] = []


class ScreenPop(BaseModel):
    """What an agent's desk is told about a call while the phone is still ringing."""

    model_config = ConfigDict(frozen=True)

    call_id: str
    agent: str
    caller: str | None
    known: bool
    customer: CustomerCard | None
    lookup_failed: bool
    lookup_pending: bool = False  # the controller missed the IVR: the card follows in a PopUpdated
    queue: str | None
    intent: str | None
    ivr_path: str | None
    waybill: str | None = None  # the shipment the caller asked about in the IVR
    work_order_id: int | None = None  # a work order the IVR opened for this call (a complaint, a claim)
    pickup_reference: str | None = None  # a pickup the caller booked in the IVR
    language: str | None = None  # the language the caller chose
    recent_contacts: list[dict[str, Any]]
    shipments: list[ShipmentSummary] = []  # the customer's recent shipments, newest first, with the last scan
    work_orders: list[WorkOrderSummary] = []  # their open work orders, most urgent first, with the SLA clock
    priority: int
    waited_seconds: float | None
    sent_at: datetime


class AgentOffered(Event):
    """app_queue rings an agent with a call (AgentCalled): the screen-pop."""

    pop: ScreenPop


class PopUpdated(Event):
    """A pop's customer card arrived after the pop (the controller had not seen the call's IVR)."""

    pop: ScreenPop


class OfferCancelled(Event):
    agent: str
    call_id: str
    reason: str  # no_answer, abandoned, answered_elsewhere


class CallQueued(Event):
    """A caller joined a queue (app_queue's QueueCallerJoin): the wallboard's calls waiting."""

    call_id: str
    queue: str
    priority: int = 0
    position: int | None = None
    at: datetime


class CallAnswered(Event):
    agent: str
    call_id: str
    queue: str | None = None
    wait_seconds: float | None = None  # the caller's wait in queue before this agent answered (first answer)


class CallHeld(Event):
    """The agent put the caller on hold from the desk (``held``) or took the call back."""

    call_id: str
    agent: str
    held: bool


class CallTransferred(Event):
    """An agent handed the call on (blind or attended; from the desk or the phone): the call lives on."""

    call_id: str
    agent: str | None  # the agent who transferred it (None: not known)
    kind: str  # blind, attended
    target: str | None = None  # the extension, queue or number it went to, as far as known


class CallEnded(Event):
    record: CallRecord
