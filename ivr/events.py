"""What the IVR tells the rest of the system about a caller (its public contract)."""

from __future__ import annotations

from crm_bridge.schemas import CustomerCard
from hotline.events import Event


class IvrStarted(Event):
    """A caller reached the IVR; the customer card (if the caller is known) was looked up."""

    uniqueid: str
    caller: str
    channel: str
    customer: CustomerCard | None = None
    lookup_failed: bool = False


class IvrCompleted(Event):
    """The IVR handed the call back to the dialplan (``completed`` is false if the caller hung up in it)."""

    uniqueid: str
    completed: bool
    path: str | None = None
    intent: str | None = None
    queue: str | None = None
    priority: int = 0
    self_service: bool = False  # the caller was served by the IVR alone (no person needed)
    language: str | None = None  # the language the call was held in
    waybill: str | None = None  # the shipment the caller asked about, for the agent's pop
    work_order_id: int | None = None  # a work order opened during the IVR (a complaint, a voicemail)
    pickup_reference: str | None = None  # a pickup booked during the IVR
    menu_version: str | None = None


class SurveyAnswered(Event):
    """A caller scored the call (1–5) after the agent hung up (or in the IVR)."""

    call_id: str
    agent: str | None = None
    score: int
