"""pickups' wiring: the booking service (PICKUPS), its routes, and the station finder it asks.

The station finder is looked up in the service registry at each booking (so the order of the packages
does not matter) under ``STATION_KEY``; until a package provides it, orders stay ``booked`` and say
that no station finder is wired. The shipments package's ``STATIONS`` fits both protocols
(``serving``, and ``opening`` for the station's day).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from fastapi import APIRouter

import pickups.routes
from crm_bridge.interface import CUSTOMERS
from hotline.plugins import Core, MissingService, Plugin, ServiceKey, Services
from pickups.config import PickupRules
from pickups.interface import PICKUPS, OpeningHours, ServingStation, StationFinder
from pickups.queries import PickupQueries
from pickups.service import PickupService
from shipments.interface import STATIONS

STATION_KEY: ServiceKey[Any] = STATIONS  # shipments' station finder: which station serves a postal code, its hours


class WiredStations:
    """The station finder registered under ``key``, asked at each call (implements StationFinder and
    StationHours; the hours are "unknown" when the finder has none)."""

    def __init__(self, services: Services, key: ServiceKey[Any]) -> None:
        self.services = services
        self.key = key

    def _finder(self) -> Any:
        try:
            return self.services.get(self.key)
        except MissingService:
            raise LookupError("no station finder is wired") from None

    async def serving(self, postal_code: str) -> ServingStation | None:
        finder: StationFinder = self._finder()
        return await finder.serving(postal_code)

    async def opening(self, station_code: str, at: datetime) -> OpeningHours | None:
        finder = self._finder()
        if not hasattr(finder, "opening"):
            return None
        result: OpeningHours = await finder.opening(station_code, at)
        return result


class PickupsPlugin(Plugin):
    def __init__(self, core: Core) -> None:
        self.core = core
        self.rules = PickupRules.load()
        stations = WiredStations(core.services, STATION_KEY)
        self.pickups = PickupService(
            core.db, core.bus, stations, self.rules, hours=stations, customers=lambda: core.services.get(CUSTOMERS)
        )
        self.queries = PickupQueries(core.db, self.rules)
        core.services.provide(PICKUPS, self.pickups)

    def routers(self) -> Iterable[APIRouter]:
        return [pickups.routes.build_router(self.pickups, self.queries, self.core.auth.access)]


def setup(core: Core) -> PickupsPlugin:
    return PickupsPlugin(core)
