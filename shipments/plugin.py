"""shipments' wiring: the tracking and station services for the other packages, and the REST routes."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, datetime

from fastapi import APIRouter

import shipments.routes
from hotline.plugins import Core, Plugin
from shipments.imports import ShipmentImporter
from shipments.interface import SHIPMENTS, STATIONS
from shipments.services.stations import StationDirectory
from shipments.services.tracking import ShipmentService


def utc_now() -> datetime:
    return datetime.now(UTC)


class ShipmentsPlugin(Plugin):
    def __init__(self, core: Core, clock: Callable[[], datetime] = utc_now) -> None:
        self.core = core
        self.clock = clock
        self.shipments = ShipmentService(core.db, core.bus)
        self.stations = StationDirectory(core.db)
        self.importer = ShipmentImporter(core.db, clock)
        core.services.provide(SHIPMENTS, self.shipments)
        core.services.provide(STATIONS, self.stations)

    def routers(self) -> Iterable[APIRouter]:
        return [
            shipments.routes.build_router(
                self.shipments, self.stations, self.importer, self.core.auth.access, lambda: self.clock()
            )
        ]


def setup(core: Core) -> ShipmentsPlugin:
    return ShipmentsPlugin(core)
