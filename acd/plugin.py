"""acd's wiring: agents, their states and queue membership over AMI, the queue catalogue, the router, callbacks,
the voicemail exit, the routes."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from fastapi import APIRouter
from prometheus_client import Counter
from sqlalchemy import select

import acd.routes
from acd.agi import QueueEntryRouting
from acd.callbacks import CallbackService
from acd.decisions import DECISION_KIND, DecisionRecord, store_decisions
from acd.events import AGENT_STATE_RECORD, AgentStateChanged, AgentStateRecord
from acd.floor import Floor
from acd.interface import AGENT_CONTROL, CALLBACKS, QUEUE_LOAD, QUEUES, ROUTER
from acd.load import QueueLoadService
from acd.models import Agent
from acd.queues import Queues
from acd.router import AcdRouter
from acd.rules import DEFAULT_RULES, RoutingRules
from acd.service import AgentService
from acd.sticky import StickyAgents
from acd.voicemail import VoicemailOrders
from cms.interface import CONTACT_HISTORY, ContactHistory
from crm_bridge.interface import CUSTOMERS, CustomerLookup
from cti.events import CallEnded
from cti.interface import DESK_PRESENCE
from hotline.auth.models import User
from hotline.background import Periodic
from hotline.logs import get_logger
from hotline.plugins import Core, MissingService, Plugin
from hotline.render import SipAgent
from hotline.routing import DIRECT_QUEUE_PREFIX, ROUTE_SCRIPT
from workorders.interface import WORK_ORDERS, WorkOrderDesk

log = get_logger(__name__)

ROUTING_ENV = "HOTLINE_ACD_ROUTING"
CALLBACK_EVERY = 2.0  # seconds between passes looking for whose callback's turn it is


class AcdPlugin(Plugin):
    def __init__(self, core: Core) -> None:
        self.core = core
        self.queues = Queues.load()
        # another routing file (tests, a site's own rules): HOTLINE_ACD_ROUTING, validated the same way
        self.rules = RoutingRules.load(Path(os.environ.get(ROUTING_ENV) or DEFAULT_RULES), self.queues.names())
        core.services.provide(QUEUES, self.queues)
        self.agents = AgentService(core.db, core.ami, core.bus, self.queues, self.rules, core.outbox)
        if core.settings.support_queue:
            self.agents.queue = core.settings.support_queue
        core.services.provide(AGENT_CONTROL, self.agents)
        core.ami.on_connected(self.agents.reconcile)
        self.floor = Floor(self.agents, self.rules, core.outbox)
        self.floor.register_ami(core.ami.on)
        self.sticky = StickyAgents(self._history, self.rules.sticky.days)
        core.bus.subscribe(CallEnded, self.sticky.on_call_ended)
        core.outbox.register(DECISION_KIND, DecisionRecord, store_decisions)
        self.router = AcdRouter(
            self.rules, self.queues, self.agents.is_free, self.sticky, core.outbox, pool=self.agents.pool
        )
        core.services.provide(ROUTER, self.router)
        self.entry_routing = QueueEntryRouting(self.router, self._customers)
        core.agi.route(ROUTE_SCRIPT, self.entry_routing.handle)
        self.callbacks = CallbackService(core.db, self.agents, self.queues, self.rules, self.router.schedules)
        self.callbacks.register_ami(core.ami.on)
        core.services.provide(CALLBACKS, self.callbacks)
        self.loads = QueueLoadService(core.ami)
        core.services.provide(QUEUE_LOAD, self.loads)
        self.voicemail = VoicemailOrders(self._work_orders, core.settings.hotline_number)
        core.ami.on("UserEvent", self.voicemail.on_UserEvent)
        self._sticky_load: asyncio.Task[None] | None = None
        self._callback_job = Periodic("acd.callbacks", self.callbacks.tick, CALLBACK_EVERY)
        changes = Counter("hotline_agent_state_changes_total", "Agent state changes", ["state"], registry=core.metrics)
        core.bus.subscribe(AgentStateChanged, lambda e: changes.labels(e.state).inc())

    def _history(self) -> ContactHistory | None:
        try:
            return self.core.services.get(CONTACT_HISTORY)
        except MissingService:
            return None

    def _customers(self) -> CustomerLookup | None:
        try:
            return self.core.services.get(CUSTOMERS)
        except MissingService:
            return None

    def _work_orders(self) -> WorkOrderDesk | None:
        try:
            return self.core.services.get(WORK_ORDERS)
        except MissingService:
            return None

    def routers(self) -> Iterable[APIRouter]:
        return [
            acd.routes.build_router(self.agents, self.core.auth.access, self._desks_open),
            acd.routes.build_routing_router(
                self.rules, self.floor, self.callbacks, self.core.db, self.core.auth.access
            ),
        ]

    def _desks_open(self, extension: str) -> int:
        try:
            return self.core.services.get(DESK_PRESENCE).connected(extension)
        except MissingService:
            return 0

    async def start(self) -> None:
        # before the AMI session (whose reconcile reads the agents' rows): states the outbox still holds win
        self.agents.restore(await self.core.outbox.pending(AGENT_STATE_RECORD, AgentStateRecord))
        self._callback_job.start()
        self._sticky_load = asyncio.create_task(self._load_sticky(), name="acd-sticky-load")

    async def _load_sticky(self) -> None:
        try:
            await self.sticky.load()
        except Exception as e:  # the cache fills call by call instead
            log.warning("sticky agents not loaded", error=repr(e))

    async def stop(self) -> None:
        if self._sticky_load is not None:
            self._sticky_load.cancel()
        await self._callback_job.stop()
        await self.router.settle()
        await self.floor.settle()

    def health(self) -> dict[str, Any]:
        return {
            **self.router.stats(),
            "routed_at_queue_entry": self.entry_routing.routed,
            "callbacks_dialled": self.callbacks.dialled,
            "no_answer_pauses": self.floor.no_answer_pauses,
            "voicemail_orders": self.voicemail.opened,
        }

    async def asterisk_context(self) -> dict[str, Any]:
        async with self.core.db.session() as session:  # disabled users get no phone
            rows = await session.execute(
                select(Agent)
                .join(User, User.id == Agent.user_id)
                .where(User.disabled.is_(False))
                .order_by(Agent.extension)
            )
            sip = [SipAgent(a.extension, a.name, a.sip_password) for a in rows.scalars()]
        return {
            "agents": sip,
            "queues": self.queues.definitions(),
            "routing": self.rules,
            "direct_queue_prefix": DIRECT_QUEUE_PREFIX,
        }


def setup(core: Core) -> AcdPlugin:
    return AcdPlugin(core)
