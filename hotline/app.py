"""Assembly: the one place that builds the controller's parts, wires them and orders start and stop.

A call's journey, in wiring order: FastAGI request → IVR (ivr.service) → dialplan Queue() →
AMI queue events → CTI registry (cti.registry) → screen-pop to the desk (cti.hub) → call.ended →
interaction row (cms.writers) and recording metadata (recordings.service).
"""

from __future__ import annotations

import asyncio
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, JSONResponse, PlainTextResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from prometheus_client import CONTENT_TYPE_LATEST

import acd.routes
import cms.routes
import cti.routes
import recordings.routes
from acd.service import AgentService
from cms.history import InteractionHistory
from cms.writers import InteractionWriter, QueueEventWriter
from crm_bridge.service import CustomerDirectory
from cti.hub import AgentHub
from cti.registry import CallRegistry
from hotline.ami import AmiClient
from hotline.bus import EventBus
from hotline.config import Settings
from hotline.db import Database
from hotline.errors import HotlineError
from hotline.fastagi import FastAgiServer
from hotline.health import DatabaseProbe, HealthMonitor, flag_check
from hotline.health import build_router as build_health_router
from hotline.logs import get_logger
from hotline.metrics import Metrics
from hotline.prompts import ensure_prompts
from ivr.menu import Menu, load_menu
from ivr.service import IvrService
from recordings.service import RecordingCatalog

log = get_logger(__name__)
WEB = Path(__file__).resolve().parent.parent / "web"


def install_error_handler(app: FastAPI) -> None:
    """Domain errors become ``{"error": code, "message": …}`` with their own HTTP status."""

    @app.exception_handler(HotlineError)
    async def hotline_error(_: Request, exc: HotlineError) -> JSONResponse:
        return JSONResponse({"error": exc.code, "message": exc.message}, status_code=exc.status_code)


class Controller:
    def __init__(self, settings: Settings, menu: Menu | None = None) -> None:
        self.settings = settings
        self.menu = menu or load_menu()
        self.bus = EventBus()
        self.db = Database(settings.db_url)
        self.ami = AmiClient(
            self.bus, settings.bind_host, settings.ami_port, settings.ami_username, settings.ami_password
        )
        self.agi = FastAgiServer(settings.bind_host, settings.agi_port)
        self.customers = CustomerDirectory(self.db)
        self.hub = AgentHub(self.bus)
        self.calls = CallRegistry(self.bus, self.customers, ami=self.ami, history=InteractionHistory(self.db).recent)
        self.agents = AgentService(self.db, self.ami, self.bus, settings.support_queue)
        self.queue_events = QueueEventWriter(self.bus, self.db)
        self.interactions = InteractionWriter(self.bus, self.db)
        self.recordings = RecordingCatalog(self.bus, self.db, settings.recordings_dir)
        self.ivr: IvrService | None = None
        for part in (self.hub, self.calls, self.agents, self.queue_events, self.interactions, self.recordings):
            part.subscribe()
        self.metrics = Metrics(self)
        self.db_probe = DatabaseProbe(self.db)
        self.health_monitor = HealthMonitor()
        self.health_monitor.add("database", self.db_probe, interval=2.0, timeout=1.5, on_result=self.db_probe.record)
        self.health_monitor.add(
            "ami",
            flag_check(lambda: self.ami.connected, "AMI not connected"),
            interval=0.5,
            detail=lambda: {"events": self.ami.events_received},
        )
        self.health_monitor.add(
            "agi",
            flag_check(lambda: self.agi.listening, "FastAGI not listening"),
            interval=0.5,
            detail=lambda: {"active": self.agi.active, "sessions": self.agi.sessions_total},
        )

    async def start(self) -> None:
        prompts = await asyncio.to_thread(ensure_prompts, self.menu.prompts, self.settings.prompts_dir)
        self.ivr = IvrService(self.menu, prompts, self.customers, self.bus, self.settings.lookup_timeout)
        self.agi.route("ivr", self.ivr.handle)
        self.queue_events.start()
        await self.agi.start()
        await self.ami.start()
        await self.health_monitor.start()

    async def stop(self) -> None:
        await self.health_monitor.stop()
        await self.agi.stop()
        await self.ami.stop()
        await self.bus.drain()
        await self.queue_events.stop()
        await self.db.close()

    def health_facts(self) -> dict[str, Any]:
        """Added to ``/healthz`` next to the components' states (cheap reads; nothing is awaited)."""
        return {"live_calls": len(self.calls.calls), "queue_events_written": self.queue_events.written}

    def build_api(self) -> FastAPI:
        controller = self

        @asynccontextmanager
        async def lifespan(_: FastAPI):  # type: ignore[no-untyped-def]
            await controller.start()
            try:
                yield
            finally:
                await controller.stop()

        app = FastAPI(
            title="hotline",
            version="0.1.0",
            lifespan=lifespan,
            description="Call-center controller: agents, screen-pops, interactions, recordings.",
        )

        install_error_handler(app)

        app.include_router(build_health_router(self.health_monitor, self.health_facts))

        @app.get("/metrics", tags=["ops"], summary="Prometheus metrics", response_class=PlainTextResponse)
        async def metrics() -> PlainTextResponse:
            return PlainTextResponse(controller.metrics.render(), media_type=CONTENT_TYPE_LATEST)

        key = self.settings.token_key
        app.include_router(acd.routes.build_router(self.agents, self.hub, key))
        app.include_router(cti.routes.build_router(self.hub, key))
        app.include_router(cms.routes.build_router(self.db, key))
        app.include_router(recordings.routes.build_router(self.db, self.settings.recordings_dir, key))

        app.mount("/static", StaticFiles(directory=WEB / "static"), name="static")

        @app.get("/", include_in_schema=False)
        async def index() -> RedirectResponse:
            return RedirectResponse("/agent")

        @app.get("/agent", include_in_schema=False)
        async def agent_page() -> FileResponse:
            return FileResponse(WEB / "agent.html")

        return app
