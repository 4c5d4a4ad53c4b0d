"""Assembly: builds the core (configuration, bus, database, Asterisk connections), lets every package
listed in ``hotline.plugins.PACKAGES`` wire itself, and orders start and stop. It knows no domain.

A call's journey, in wiring order: FastAGI request → IVR (ivr) → dialplan Queue() → AMI events → call
model keyed by linkedid (cti) → screen-pop to the desk (cti) → CallEnded → interaction row (cms) and
recording metadata (recordings).
"""

from __future__ import annotations

import asyncio
from contextlib import asynccontextmanager
from typing import Any

from fastapi import Depends, FastAPI, Request
from fastapi.responses import JSONResponse, PlainTextResponse
from prometheus_client import CONTENT_TYPE_LATEST

import hotline.auth.routes
import hotline.outbox_routes
from hotline.ami import AmiClient
from hotline.auth import Argon2Cost, Auth, LoginLimiter, public
from hotline.bus import EventBus
from hotline.config import Settings
from hotline.db import Database
from hotline.errors import HotlineError
from hotline.fastagi import FastAgiServer
from hotline.health import DatabaseProbe, HealthMonitor, flag_check
from hotline.health import build_router as build_health_router
from hotline.logs import get_logger
from hotline.metrics import core_metrics, render
from hotline.outbox import Outbox
from hotline.plugins import PACKAGES, Core, Plugin, load_plugins

log = get_logger(__name__)


def install_error_handler(app: FastAPI) -> None:
    """Domain errors become ``{"error": code, "message": …}`` with their own HTTP status."""

    @app.exception_handler(HotlineError)
    async def hotline_error(_: Request, exc: HotlineError) -> JSONResponse:
        return JSONResponse(
            {"error": exc.code, "message": exc.message}, status_code=exc.status_code, headers=exc.headers
        )


def build_auth(settings: Settings, db: Database) -> Auth:
    return Auth.build(
        db,
        Argon2Cost(settings.argon2_time_cost, settings.argon2_memory_cost, settings.argon2_parallelism),
        session_ttl=settings.session_ttl,
        limiter=LoginLimiter(
            settings.login_failures_per_user, settings.login_failures_per_address, settings.login_window
        ),
    )


def build_core(settings: Settings) -> Core:
    ami = AmiClient(settings.bind_host, settings.ami_port, settings.ami_username, settings.ami_password)
    db = Database(settings.db_url)
    core = Core(
        settings=settings,
        bus=EventBus(),
        db=db,
        ami=ami,
        agi=FastAgiServer(settings.bind_host, settings.agi_port),
        outbox=Outbox(settings.outbox_path, db, linger=settings.outbox_linger),
        auth=build_auth(settings, db),
    )
    core_metrics(core.metrics, core.ami, core.agi, core.outbox)
    return core


def health_monitor(core: Core) -> HealthMonitor:
    """Background probes of the controller's dependencies: their states feed /healthz and /readyz, and the
    database's feeds ``Database.available`` (so a look-up can fail fast while it is away)."""
    probe = DatabaseProbe(core.db)
    monitor = HealthMonitor()
    monitor.add("database", probe, interval=2.0, timeout=1.5, on_result=probe.record)
    monitor.add(
        "ami",
        flag_check(lambda: core.ami.connected, "AMI not connected"),
        interval=0.5,
        detail=lambda: {"events": core.ami.events_received},
    )
    monitor.add(
        "agi",
        flag_check(lambda: core.agi.listening, "FastAGI not listening"),
        interval=0.5,
        detail=lambda: {"active": core.agi.active, "sessions": core.agi.sessions_total},
    )
    return monitor


class Controller:
    def __init__(self, settings: Settings, packages: tuple[str, ...] = PACKAGES) -> None:
        self.settings = settings
        self.core = build_core(settings)
        self.plugins: list[Plugin] = load_plugins(self.core, packages)
        self.bus, self.db, self.ami, self.agi = self.core.bus, self.core.db, self.core.ami, self.core.agi
        self.auth = self.core.auth
        self.health_monitor = health_monitor(self.core)
        self.started = asyncio.Event()  # set once everything has started

    def plugin(self, name: str) -> Plugin:
        return next(p for p in self.plugins if p.name == name)

    async def start(self) -> None:
        await self.core.outbox.start()
        for plugin in self.plugins:
            await plugin.start()
        await self.agi.start()
        await self.ami.start()
        await self.health_monitor.start()
        self.started.set()

    async def stop(self) -> None:
        await self.health_monitor.stop()
        await self.agi.stop()
        await self.ami.stop()
        await self.bus.drain()
        for plugin in reversed(self.plugins):
            try:
                await plugin.stop()
            except Exception:
                log.exception("plugin stop failed", plugin=plugin.name)
        await self.core.outbox.stop()
        await self.db.close()

    def health_facts(self) -> dict[str, Any]:
        """Added to ``/healthz`` next to the components' states (cheap reads; nothing is awaited)."""
        report: dict[str, Any] = {"outbox": self.core.outbox.stats.__dict__}
        for plugin in self.plugins:
            report.update(plugin.health())
        return report

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
        open_to_all = [Depends(public)]  # the ops routes listen on loopback only, like everything else

        app.include_router(build_health_router(self.health_monitor, self.health_facts))

        @app.get(
            "/metrics",
            tags=["ops"],
            summary="Prometheus metrics",
            response_class=PlainTextResponse,
            dependencies=open_to_all,
        )
        async def metrics() -> PlainTextResponse:
            return PlainTextResponse(render(controller.core.metrics), media_type=CONTENT_TYPE_LATEST)

        app.include_router(hotline.auth.routes.build_router(self.core.auth.accounts, self.core.auth.access))
        app.include_router(hotline.outbox_routes.build_router(self.core.outbox, self.core.auth.access))
        for plugin in self.plugins:
            plugin.install(app)
        return app
