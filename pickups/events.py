"""What the pickups package tells the rest of the system."""

from __future__ import annotations

from datetime import datetime

from hotline.events import Event


class PickupBooked(Event):
    reference: str
    state: str  # booked (no station serves the postal code, yet) or assigned
    station_code: str | None
    postal_code: str
    customer_id: int | None
    ready_at: datetime
    close_at: datetime
    by: str


class PickupStateChanged(Event):
    reference: str
    from_state: str
    to_state: str
    station_code: str | None
    by: str
    reason: str | None
    at: datetime
