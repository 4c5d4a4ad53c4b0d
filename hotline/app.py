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

from fastapi import Depends, FastAPI, Request
from fastapi.responses import FileResponse, JSONResponse, PlainTextResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from prometheus_client import CONTENT_TYPE_LATEST

import acd.routes
import cms.routes
import cti.routes
import hotline.auth.routes
import recordings.routes
from acd.service import AgentService
from cms.history import InteractionHistory
from cms.writers import InteractionWriter, QueueEventWriter
from crm_bridge.service import CustomerDirectory
from cti.hub import AgentHub
from cti.registry import CallRegistry
from hotline.ami import AmiClient
from hotline.auth import Argon2Cost, Auth, LoginLimiter, mark_public, public
from hotline.bus import EventBus
from hotline.config import Settings
from hotline.db import Database
from hotline.errors import HotlineError
from hotline.fastagi import FastAgiServer
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
        return JSONResponse(
            {"error": exc.code, "message": exc.message}, status_code=exc.status_code, headers=exc.headers
        )


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
        self.auth = Auth.build(
            self.db,
            Argon2Cost(settings.argon2_time_cost, settings.argon2_memory_cost, settings.argon2_parallelism),
            session_ttl=settings.session_ttl,
            limiter=LoginLimiter(
                settings.login_failures_per_user, settings.login_failures_per_address, settings.login_window
            ),
        )
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

    async def start(self) -> None:
        prompts = await asyncio.to_thread(ensure_prompts, self.menu.prompts, self.settings.prompts_dir)
        self.ivr = IvrService(self.menu, prompts, self.customers, self.bus, self.settings.lookup_timeout)
        self.agi.route("ivr", self.ivr.handle)
        self.queue_events.start()
        await self.agi.start()
        await self.ami.start()

    async def stop(self) -> None:
        await self.agi.stop()
        await self.ami.stop()
        await self.bus.drain()
        await self.queue_events.stop()
        await self.db.close()

    async def health(self) -> dict[str, Any]:
        db_ok = await self.db.ping()
        components: dict[str, dict[str, Any]] = {
            "ami": {"ok": self.ami.connected, "events": self.ami.events_received},
            "database": {"ok": db_ok},
            "agi": {"ok": self.agi.listening, "active": self.agi.active, "sessions": self.agi.sessions_total},
        }
        return {
            "ok": all(c["ok"] for c in components.values()),
            "components": components,
            "live_calls": len(self.calls.calls),
            "queue_events_written": self.queue_events.written,
        }

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

        open_to_all = [Depends(public)]

        @app.get(
            "/healthz",
            tags=["ops"],
            summary="Each component's health; 503 unless all are up",
            dependencies=open_to_all,
        )
        async def healthz() -> JSONResponse:
            report = await controller.health()
            return JSONResponse(report, status_code=200 if report["ok"] else 503)

        @app.get(
            "/metrics",
            tags=["ops"],
            summary="Prometheus metrics",
            response_class=PlainTextResponse,
            dependencies=open_to_all,
        )
        async def metrics() -> PlainTextResponse:
            return PlainTextResponse(controller.metrics.render(), media_type=CONTENT_TYPE_LATEST)

        access = self.auth.access
        app.include_router(hotline.auth.routes.build_router(self.auth.accounts, access))
        app.include_router(acd.routes.build_router(self.agents, self.hub, access))
        app.include_router(cti.routes.build_router(self.hub, access))
        app.include_router(cms.routes.build_router(self.db, access))
        app.include_router(
            recordings.routes.build_router(
                self.db, self.settings.recordings_dir, access, self.settings.agents_hear_own_recordings
            )
        )

        app.mount("/static", mark_public(StaticFiles(directory=WEB / "static")), name="static")

        @app.get("/", include_in_schema=False, dependencies=open_to_all)
        async def index() -> RedirectResponse:
            return RedirectResponse("/agent")

        @app.get("/agent", include_in_schema=False, dependencies=open_to_all)
        async def agent_page() -> FileResponse:
            return FileResponse(WEB / "agent.html")

        return app
