"""cti's wiring: the live call model fed by AMI and the IVR, and the agents' desk connections."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from fastapi import APIRouter
from prometheus_client import Counter, Gauge

import cti.routes
from acd.interface import QUEUES
from cms.interface import CONTACT_HISTORY
from crm_bridge.interface import CUSTOMERS
from cti.controls import CallControls, template_context
from cti.events import AgentOffered, CallEnded
from cti.extras import ExtrasLoader
from cti.hub import AgentHub
from cti.interface import DESK_PRESENCE
from cti.registry import CallRegistry
from hotline.plugins import Core, Plugin
from shipments.interface import SHIPMENTS
from workorders.interface import WORK_ORDERS


class CtiPlugin(Plugin):
    def __init__(self, core: Core) -> None:
        self.core = core
        self.hub = AgentHub(core.bus)
        self.hub.subscribe()
        core.services.provide(DESK_PRESENCE, self.hub)
        self.calls = CallRegistry(
            core.bus,
            core.services.get(CUSTOMERS),
            lookup_timeout=core.settings.lookup_timeout,
            ami=core.ami,
            extras=ExtrasLoader(
                history=core.services.get(CONTACT_HISTORY),
                shipments=core.services.get(SHIPMENTS),
                work_orders=core.services.get(WORK_ORDERS),
                timeout=2 * core.settings.lookup_timeout,
            ),
        )
        self.calls.subscribe()
        self.controls = CallControls(self.calls, core.ami, core.bus, core.services.get(QUEUES).names())
        self._metrics()

    def _metrics(self) -> None:
        r = self.core.metrics
        calls = Counter("hotline_calls_total", "Calls ended, by outcome", ["outcome"], registry=r)
        pops = Counter("hotline_screen_pops_total", "Screen-pops sent to agents", registry=r)
        self.core.bus.subscribe(CallEnded, lambda e: calls.labels(e.record.outcome).inc())
        self.core.bus.subscribe(AgentOffered, lambda _: pops.inc())
        Gauge("hotline_live_calls", "Calls in progress", registry=r).set_function(lambda: len(self.calls.calls))
        Gauge("hotline_desk_connections", "Agent desk WebSockets open", registry=r).set_function(
            lambda: sum(map(len, self.hub.outboxes.values()))
        )

    def routers(self) -> Iterable[APIRouter]:
        return [cti.routes.build_router(self.hub, self.core.auth.access, self.controls)]

    async def asterisk_context(self) -> dict[str, Any]:
        return template_context(self.controls.queues)

    def health(self) -> dict[str, Any]:
        return {"live_calls": len(self.calls.calls), "desk_connections": sum(map(len, self.hub.outboxes.values()))}


def setup(core: Core) -> CtiPlugin:
    return CtiPlugin(core)
