"""What the shipments package tells the others (its public contract)."""

from __future__ import annotations

from datetime import datetime

from hotline.events import Event


class ShipmentExceptionRecorded(Event):
    """A scan reported an exception (customs delay, delay, misroute, damage, loss) on a shipment."""

    waybill: str
    exception: str
    place: str
    station_code: str | None = None
    at: datetime  # the scan's time
    sender_customer_id: int | None = None
    recorded_by: str | None = None


class ShipmentDelivered(Event):
    waybill: str
    place: str
    at: datetime
    sender_customer_id: int | None = None
