"""acd's wiring: agents and queue membership over AMI, the queue catalogue, the agents' routes."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from fastapi import APIRouter
from prometheus_client import Counter
from sqlalchemy import select

import acd.routes
from acd.events import AgentStateChanged
from acd.interface import AGENT_CONTROL, QUEUES
from acd.models import Agent
from acd.queues import Queues
from acd.service import AgentService
from cti.interface import DESK_PRESENCE
from hotline.auth.models import User
from hotline.plugins import Core, MissingService, Plugin
from hotline.render import SipAgent


class AcdPlugin(Plugin):
    def __init__(self, core: Core) -> None:
        self.core = core
        self.queues = Queues.load()
        core.services.provide(QUEUES, self.queues)
        self.agents = AgentService(
            core.db, core.ami, core.bus, core.settings.support_queue or self.queues.default, core.outbox
        )
        core.services.provide(AGENT_CONTROL, self.agents)
        core.ami.on_connected(self.agents.reconcile)
        changes = Counter("hotline_agent_state_changes_total", "Agent state changes", ["state"], registry=core.metrics)
        core.bus.subscribe(AgentStateChanged, lambda e: changes.labels(e.state).inc())

    def routers(self) -> Iterable[APIRouter]:
        return [acd.routes.build_router(self.agents, self.core.auth.access, self._desks_open)]

    def _desks_open(self, extension: str) -> int:
        try:
            return self.core.services.get(DESK_PRESENCE).connected(extension)
        except MissingService:
            return 0

    async def asterisk_context(self) -> dict[str, Any]:
        async with self.core.db.session() as session:  # disabled users get no phone
            rows = await session.execute(
                select(Agent)
                .join(User, User.id == Agent.user_id)
                .where(User.disabled.is_(False))
                .order_by(Agent.extension)
            )
            sip = [SipAgent(a.extension, a.name, a.sip_password) for a in rows.scalars()]
        return {"agents": sip, "queues": self.queues.definitions()}


def setup(core: Core) -> AcdPlugin:
    return AcdPlugin(core)
