"""crm_bridge's wiring: the customer look-up for the other packages, the customers' routes, grading on a
schedule from the shipments service's volumes."""

from __future__ import annotations

import importlib
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter

import crm_bridge.routes
from crm_bridge.book import CustomerBook
from crm_bridge.errors import NoShipmentHistory
from crm_bridge.grading import Grader, GradingRules, Volume
from crm_bridge.importer import CustomerImporter
from crm_bridge.interface import CUSTOMERS
from crm_bridge.service import CustomerDirectory
from hotline.background import Periodic
from hotline.plugins import Core, MissingService, Plugin


def _now() -> datetime:
    return datetime.now(UTC)


class ShipmentVolumes:
    """``SHIPMENTS.volumes`` of the shipments package, found when first needed (it is built after this
    package); without it grading is unavailable (503) and the schedule waits."""

    def __init__(self, core: Core) -> None:
        self.core = core
        try:
            self.key: Any | None = importlib.import_module("shipments.interface").SHIPMENTS
        except (ModuleNotFoundError, AttributeError):
            self.key = None  # no shipments package in this installation

    def _source(self) -> Any | None:
        if self.key is None:
            return None
        try:
            return self.core.services.get(self.key)
        except MissingService:
            return None

    @property
    def available(self) -> bool:
        return self._source() is not None

    async def __call__(self, customer_ids: Sequence[int], since: datetime, until: datetime) -> Mapping[int, Volume]:
        source = self._source()
        if source is None:
            raise NoShipmentHistory("no shipment history to grade from: the shipments service is missing")
        result: Mapping[int, Volume] = await source.volumes(customer_ids, since, until)
        return result


class CrmPlugin(Plugin):
    def __init__(self, core: Core) -> None:
        self.core = core
        self.customers = CustomerDirectory(core.db)
        core.services.provide(CUSTOMERS, self.customers)
        self.book = CustomerBook(core.db, _now)
        self.importer = CustomerImporter(core.db, _now)
        self.shipments = ShipmentVolumes(core)
        self.grader = Grader(core.db, core.bus, GradingRules.load(), _now, self.shipments)
        self.schedule = Periodic("crm_bridge.grading", self.grader.scheduled, self.grader.rules.check_every_seconds)

    def routers(self) -> Iterable[APIRouter]:
        return [crm_bridge.routes.build_router(self.book, self.grader, self.importer, self.core.auth.access)]

    async def start(self) -> None:
        self.schedule.start()

    async def stop(self) -> None:
        await self.schedule.stop()
        await self.grader.wait()

    def health(self) -> dict[str, Any]:
        return {"customers": {"grading_scheduled": self.schedule.running, "shipment_history": self.shipments.available}}


def setup(core: Core) -> CrmPlugin:
    return CrmPlugin(core)
