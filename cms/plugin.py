"""cms's wiring: interaction rows through the outbox, Asterisk's queue_log ingested exactly once, the
back-fill of calls the controller did not witness, and the contact history service."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from fastapi import APIRouter
from prometheus_client import Gauge

import cms.routes
from cms.backfill import Backfill
from cms.history import InteractionHistory
from cms.interface import CALLS_ENDED, CONTACT_HISTORY
from cms.queue_log import QueueLogIngester
from cms.writers import InteractionWriter
from cti.events import CallEnded
from hotline.plugins import Core, Plugin
from ivr.events import IvrCompleted


class CmsPlugin(Plugin):
    def __init__(self, core: Core) -> None:
        self.core = core
        history = InteractionHistory(core.db)
        core.services.provide(CONTACT_HISTORY, history)
        core.services.provide(CALLS_ENDED, history)
        self.interactions = InteractionWriter(core.outbox)
        core.bus.subscribe(CallEnded, self.interactions.on_call_ended)
        core.bus.subscribe(IvrCompleted, self.interactions.on_ivr_completed)
        self.backfill = Backfill(core.db)
        # every 2 s: the lines of several calls share a transaction (the table is for reports, not live views)
        self.queue_log = QueueLogIngester(
            core.settings.queue_log_path, core.db, poll=2.0, on_caught_up=self.backfill.poked
        )
        Gauge("hotline_queue_log_lines", "queue_log lines stored", registry=core.metrics).set_function(
            lambda: self.queue_log.lines_total
        )

    def routers(self) -> Iterable[APIRouter]:
        return [cms.routes.build_router(self.core.db, self.core.auth.access)]

    async def start(self) -> None:
        self.queue_log.start()
        self.backfill.start()

    async def stop(self) -> None:
        await self.backfill.stop()
        await self.queue_log.stop()

    def health(self) -> dict[str, Any]:
        return {"queue_log": {"lines": self.queue_log.lines_total, "lag_bytes": self.queue_log.lag_bytes}}


def setup(core: Core) -> CmsPlugin:
    return CmsPlugin(core)
