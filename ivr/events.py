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
