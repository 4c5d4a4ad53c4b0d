"""cms's wiring: interaction rows through the outbox, Asterisk's queue_log ingested exactly once, the
back-fill of calls the controller did not witness, the contact history service, and the reports (agents'
states taken from acd's durable records, surveys from the bus, per-call facts, 15-minute aggregates, the
report routes, live counters)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from fastapi import APIRouter
from prometheus_client import Gauge

import cms.report_routes
import cms.routes
from cms.agent_states import AgentStateRecorder
from cms.aggregates import Aggregator
from cms.backfill import Backfill
from cms.factbuilder import FactBuilder
from cms.history import InteractionHistory
from cms.interface import CALLS_ENDED, CONTACT_HISTORY
from cms.live import LiveCounters
from cms.queue_log import QueueLogIngester
from cms.report_config import ReportConfig
from cms.reporting import Reports
from cms.reports_job import ReportsJob
from cms.writers import InteractionWriter
from cti.events import CallEnded
from hotline.plugins import Core, Plugin
from ivr.events import IvrCompleted, SurveyAnswered


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
        self.report_config = ReportConfig.load()
        self.reports = Reports(core.db, self.report_config)
        self.reports_job = ReportsJob(
            FactBuilder(core.db, self.report_config), Aggregator(core.db, self.report_config.timezone)
        )
        self.states = AgentStateRecorder(core.outbox, lambda: self.reports_job.builder.clock())
        core.bus.subscribe(SurveyAnswered, self.states.on_survey_answered)
        self.live = LiveCounters(core.metrics)
        core.bus.subscribe(CallEnded, self.live.on_call_ended)
        # every 2 s: the lines of several calls share a transaction (the table is for reports, not live views)
        self.queue_log = QueueLogIngester(core.settings.queue_log_path, core.db, poll=2.0, on_caught_up=self._caught_up)
        Gauge("hotline_queue_log_lines", "queue_log lines stored", registry=core.metrics).set_function(
            lambda: self.queue_log.lines_total
        )
        Gauge("hotline_cms_facts", "Call facts derived since start", registry=core.metrics).set_function(
            lambda: self.reports_job.builder.facts_total
        )

    async def _caught_up(self) -> None:
        await self.backfill.poked()
        self.reports_job.poke()

    def routers(self) -> Iterable[APIRouter]:
        return [
            cms.routes.build_router(self.core.db, self.core.auth.access),
            cms.report_routes.build_report_router(self.reports, self.core.auth.access),
        ]

    async def start(self) -> None:
        self.queue_log.start()
        self.backfill.start()
        self.reports_job.start()

    async def stop(self) -> None:
        await self.reports_job.stop()
        await self.backfill.stop()
        await self.queue_log.stop()

    def health(self) -> dict[str, Any]:
        return {
            "queue_log": {"lines": self.queue_log.lines_total, "lag_bytes": self.queue_log.lag_bytes},
            "reports": {"facts": self.reports_job.builder.facts_total, "keys": self.reports_job.aggregator.rows_total},
        }


def setup(core: Core) -> CmsPlugin:
    return CmsPlugin(core)
