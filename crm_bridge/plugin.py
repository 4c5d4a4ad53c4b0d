"""crm_bridge's wiring: the customer look-up for the other packages (asking an external CRM first when one
is configured), the customers' routes, grading on a schedule from the shipments service's volumes, and the
write-back of calls and work orders to the external CRM."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter

import crm_bridge.routes
from crm_bridge.book import CustomerBook
from crm_bridge.errors import NoShipmentHistory
from crm_bridge.external.config import ExternalCrmConfig
from crm_bridge.external.contract import InteractionRecord, WorkOrderRecord
from crm_bridge.external.wiring import ExternalCrmAdapter, build_adapter
from crm_bridge.grading import Grader, GradingRules, Volume
from crm_bridge.importer import CustomerImporter
from crm_bridge.interface import CALLER_PROFILE, CUSTOMERS
from crm_bridge.service import CallerProfiles, CustomerDirectory
from cti.events import CallEnded
from hotline.background import Periodic
from hotline.plugins import Core, MissingService, Plugin
from shipments.interface import SHIPMENTS
from workorders.events import WorkOrderChanged, WorkOrderOpened


def _now() -> datetime:
    return datetime.now(UTC)


class ShipmentVolumes:
    """``SHIPMENTS.volumes`` of the shipments package, found when first needed (it is built after this
    package); without it grading is unavailable (503) and the schedule waits."""

    def __init__(self, core: Core) -> None:
        self.core = core

    def _source(self) -> Any | None:
        try:
            return self.core.services.get(SHIPMENTS)
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
        self.external = build_adapter(ExternalCrmConfig.load(), self.customers, core.outbox)
        core.services.provide(CUSTOMERS, self.external.lookup if self.external else self.customers)
        core.services.provide(CALLER_PROFILE, CallerProfiles(core.db))
        if self.external is not None:
            self._write_back(self.external)
        self.book = CustomerBook(core.db, _now)
        self.importer = CustomerImporter(core.db, _now)
        self.shipments = ShipmentVolumes(core)
        self.grader = Grader(core.db, core.bus, GradingRules.load(), _now, self.shipments)
        self.schedule = Periodic("crm_bridge.grading", self.grader.scheduled, self.grader.rules.check_every_seconds)

    def _write_back(self, adapter: ExternalCrmAdapter) -> None:
        """Every finished call and every work-order change goes to the external CRM (durably, once each)."""

        async def on_call_ended(e: CallEnded) -> None:
            r = e.record
            await adapter.writeback.interaction(
                InteractionRecord(
                    call_id=r.call_id,
                    caller=r.caller,
                    customer_id=r.customer_id,
                    agent=r.agent,
                    queue=r.queue,
                    intent=r.intent,
                    outcome=r.outcome,
                    started_at=r.started_at,
                    answered_at=r.answered_at,
                    ended_at=r.ended_at,
                )
            )

        async def on_work_order(e: WorkOrderOpened | WorkOrderChanged) -> None:
            await adapter.writeback.work_order(
                WorkOrderRecord(
                    id=e.work_order_id,
                    type=e.type,
                    status=e.status,
                    customer_id=e.customer_id,
                    waybill=e.waybill,
                    subject=e.subject,
                    changed_at=e.at,
                )
            )

        self.core.bus.subscribe(CallEnded, on_call_ended)
        self.core.bus.subscribe(WorkOrderOpened, on_work_order)
        self.core.bus.subscribe(WorkOrderChanged, on_work_order)

    def routers(self) -> Iterable[APIRouter]:
        return [crm_bridge.routes.build_router(self.book, self.grader, self.importer, self.core.auth.access)]

    async def start(self) -> None:
        self.schedule.start()

    async def stop(self) -> None:
        await self.schedule.stop()
        await self.grader.wait()
        if self.external is not None:
            await self.external.close()  # write-backs not yet delivered stay in the outbox

    def health(self) -> dict[str, Any]:
        health: dict[str, Any] = {
            "customers": {"grading_scheduled": self.schedule.running, "shipment_history": self.shipments.available}
        }
        if self.external is not None:
            health.update(self.external.health())
        return health


def setup(core: Core) -> CrmPlugin:
    return CrmPlugin(core)
