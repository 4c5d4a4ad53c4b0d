"""The pickups package's service interface, and the one thing it needs from elsewhere: which station
serves a postal code."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from hotline.plugins import ServiceKey
from pickups.schemas import PickupRequest, PickupView

__all__ = ["PICKUPS", "PickupBooking", "PickupRequest", "PickupView", "StationFinder", "StationHours"]


class PickupBooking(Protocol):
    async def book(self, request: PickupRequest, by: str) -> PickupView:
        """Take the order; assigned to the serving station when one is found, else left ``booked``."""
        ...

    async def by_reference(self, reference: str) -> PickupView | None: ...


PICKUPS: ServiceKey[PickupBooking] = ServiceKey("pickups.pickups")


class ServingStation(Protocol):
    @property
    def code(self) -> str: ...


class StationFinder(Protocol):
    """Which station serves a postal code (the shipments package's station finder fits)."""

    async def serving(self, postal_code: str) -> ServingStation | None: ...


class OpeningHours(Protocol):
    @property
    def open(self) -> bool: ...

    @property
    def closes_at(self) -> datetime | None: ...

    @property
    def next_open(self) -> datetime | None: ...


class StationHours(Protocol):
    """Optional: a station's opening at a moment, to keep a pickup window inside the station's day."""

    async def opening(self, station_code: str, at: datetime) -> OpeningHours | None: ...
