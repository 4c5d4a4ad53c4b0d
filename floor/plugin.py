"""floor's wiring: live statistics fed by the bus and AMI, the wallboard, supervision."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter
from prometheus_client import Counter
from sqlalchemy import select

import floor.routes
from acd.interface import AGENT_CONTROL
from cms.interface import CALLS_ENDED
from floor.board import Wallboard
from floor.config import FloorConfig
from floor.events import QueueAlertRaised
from floor.feed import Floor
from floor.models import SupervisorPhone
from floor.stats import FloorStats
from floor.supervise import Supervision, template_context
from hotline.auth.models import User
from hotline.plugins import Core, Plugin
from hotline.render import SipAgent


def utc_now() -> datetime:
    return datetime.now(UTC)


class FloorPlugin(Plugin):
    def __init__(self, core: Core) -> None:
        self.core = core
        self.config = FloorConfig.load()
        self.stats = FloorStats(self.config, utc_now)
        self.floor = Floor(self.stats, core.bus, core.ami, core.services.get(CALLS_ENDED))
        self.floor.subscribe()
        self.board = Wallboard(self.stats, core.bus)
        self.board.subscribe()
        self.floor.listeners.append(self.board.on_changes)
        self.supervision = Supervision(
            core.db, core.ami, core.bus, self.stats, lambda: core.services.get(AGENT_CONTROL), utc_now
        )
        core.ami.on("OriginateResponse", self.supervision.on_OriginateResponse)
        alerts = Counter("hotline_queue_alerts_total", "Queue thresholds crossed", ["kind"], registry=core.metrics)
        core.bus.subscribe(QueueAlertRaised, lambda e: alerts.labels(e.kind).inc())  # metrics

    def routers(self) -> Iterable[APIRouter]:
        return [floor.routes.build_router(self.board, self.supervision, self.core.auth.access)]

    async def start(self) -> None:
        await self.floor.start()

    async def stop(self) -> None:
        await self.floor.stop()

    async def asterisk_context(self) -> dict[str, Any]:
        async with self.core.db.session() as session:  # disabled users' phones are not rendered
            rows = await session.execute(
                select(SupervisorPhone, User.display_name)
                .join(User, User.id == SupervisorPhone.user_id)
                .where(User.disabled.is_(False))
                .order_by(SupervisorPhone.extension)
            )
            phones = [SipAgent(p.extension, name, p.sip_password) for p, name in rows.all()]
        return {"supervisor_phones": phones, **template_context()}

    def health(self) -> dict[str, Any]:
        return {
            "wallboards": len(self.board.viewers),
            "alerts": len(self.stats.alerts),
            "day_loaded": self.floor.day_loaded,
        }


def setup(core: Core) -> FloorPlugin:
    return FloorPlugin(core)
