"""workorders' wiring: the desk (provided as WORK_ORDERS), the escalation job, the REST routes."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from fastapi import APIRouter
from prometheus_client import Counter

import workorders.routes
from crm_bridge.interface import CUSTOMERS
from hotline.plugins import Core, Plugin
from workorders.events import WorkOrderEscalated
from workorders.interface import WORK_ORDERS
from workorders.policy import Policy
from workorders.services.desk import CustomerTiers, WorkOrderService, utc_now
from workorders.services.escalation import Escalator


class WorkOrdersPlugin(Plugin):
    def __init__(self, core: Core, clock: Callable[[], datetime] = utc_now) -> None:
        self.core = core
        self.clock = clock
        self.policy = Policy.load()
        self.desk = WorkOrderService(core.db, core.bus, self.policy, self._customers, clock)
        core.services.provide(WORK_ORDERS, self.desk)
        self.escalator = Escalator(core.db, core.bus, self.policy, clock)
        escalations = Counter(
            "hotline_work_order_escalations_total", "Work-order escalations", ["reason"], registry=core.metrics
        )
        core.bus.subscribe(WorkOrderEscalated, lambda e: escalations.labels(e.reason).inc())

    def _customers(self) -> CustomerTiers:
        return self.core.services.get(CUSTOMERS)

    def routers(self) -> Iterable[APIRouter]:
        return [workorders.routes.build_router(self.desk, self.policy, self.core.auth.access, self.clock)]

    async def start(self) -> None:
        self.escalator.start()

    async def stop(self) -> None:
        await self.escalator.stop()

    def health(self) -> dict[str, Any]:
        escalator = self.escalator
        return {
            "work_orders": {"escalations": escalator.escalations_total, "escalation_running": escalator.task.running}
        }


def setup(core: Core) -> WorkOrdersPlugin:
    return WorkOrdersPlugin(core)
