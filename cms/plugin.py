"""cms's wiring: the interaction rows, the queue log and the contact history service."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from fastapi import APIRouter
from prometheus_client import Gauge

import cms.routes
from cms.history import InteractionHistory
from cms.interface import CONTACT_HISTORY
from cms.writers import QUEUE_EVENTS, InteractionWriter, QueueEventWriter
from cti.events import CallEnded
from hotline.plugins import Core, Plugin


class CmsPlugin(Plugin):
    def __init__(self, core: Core) -> None:
        self.core = core
        core.services.provide(CONTACT_HISTORY, InteractionHistory(core.db))
        self.interactions = InteractionWriter(core.db)
        core.bus.subscribe(CallEnded, self.interactions.on_call_ended)
        self.queue_events = QueueEventWriter(core.db)
        for name in QUEUE_EVENTS:
            core.ami.on(name, self.queue_events.on_event)
        Gauge("hotline_queue_events_backlog", "Queue events not yet stored", registry=core.metrics).set_function(
            lambda: len(self.queue_events.pending)
        )

    def routers(self) -> Iterable[APIRouter]:
        return [cms.routes.build_router(self.core.db, self.core.settings.token_key)]

    async def start(self) -> None:
        self.queue_events.start()

    async def stop(self) -> None:
        await self.queue_events.stop()

    def health(self) -> dict[str, Any]:
        return {
            "queue_events_written": self.queue_events.written,
            "queue_events_backlog": len(self.queue_events.pending),
        }


def setup(core: Core) -> CmsPlugin:
    return CmsPlugin(core)
