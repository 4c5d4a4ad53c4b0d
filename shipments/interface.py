"""The shipments package's services for other packages: tracking, a customer's shipments, stations."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from hotline.plugins import ServiceKey
from shipments.schemas import OpeningState, ShipmentSummary, StationView, Tracking, Volume


class ShipmentLookup(Protocol):
    async def track(self, waybill: str) -> Tracking | None:
        """The shipment and its scans; raises ``shipments.errors.InvalidWaybill`` (422) on a bad number."""
        ...

    async def recent_for_customer(self, customer_id: int, limit: int = 5) -> list[ShipmentSummary]:
        """The customer's newest shipments first."""
        ...

    async def volumes(self, customer_ids: Sequence[int], since: datetime, until: datetime) -> dict[int, Volume]:
        """Parcels sent and revenue of each customer in [since, until) (customers with none: absent)."""
        ...


class StationFinder(Protocol):
    async def serving(self, postal_code: str) -> StationView | None: ...

    async def opening(self, station_code: str, at: datetime) -> OpeningState:
        """Raises ``shipments.errors.StationNotFound`` for an unknown station."""
        ...


SHIPMENTS: ServiceKey[ShipmentLookup] = ServiceKey("shipments.shipments")
STATIONS: ServiceKey[StationFinder] = ServiceKey("shipments.stations")
