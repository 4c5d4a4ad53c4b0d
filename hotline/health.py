"""Liveness and readiness, kept apart.

Liveness answers one question: does the controller's event loop still run? ``/livez`` is answered
without touching any dependency, so a supervisor acting on it never kills a healthy controller because
PostgreSQL or Asterisk is away. Readiness is the state of each dependency, kept up to date by background
probes (one task per component, one probe in flight at a time, each bounded by a timeout) and only *read*
by a request: ``/readyz`` and ``/healthz`` never wait on a dependency.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

import asyncpg
from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse

from hotline.auth import public
from hotline.db import Database
from hotline.logs import get_logger

log = get_logger(__name__)

Check = Callable[[], Awaitable[None]]  # raises when the component is not usable
Detail = Callable[[], dict[str, Any]]  # cheap, synchronous facts added to the component's report


class Status(StrEnum):
    OK = "ok"
    DEGRADED = "degraded"  # the last probe failed (or none has finished yet): maybe a blip
    DOWN = "down"  # several probes in a row failed


@dataclass
class ComponentState:
    name: str
    status: Status = Status.DEGRADED
    since: float = field(default_factory=time.time)
    error: str | None = "not probed yet"
    failures: int = 0  # consecutive
    checked_at: float | None = None
    latency_ms: float | None = None

    def record(self, ok: bool, error: str | None, now: float, down_after: int) -> bool:
        """Apply one probe's result; True when the status changed."""
        self.checked_at = now
        if ok:
            self.failures = 0
            self.error = None
            new = Status.OK
        else:
            self.failures += 1
            self.error = error
            new = Status.DOWN if self.failures >= down_after else Status.DEGRADED
        changed = new is not self.status
        if changed:
            self.status = new
            self.since = now
        return changed

    def report(self) -> dict[str, Any]:
        return {
            "ok": self.status is Status.OK,
            "status": str(self.status),
            "since": _iso(self.since),
            "error": self.error,
            "checked_at": _iso(self.checked_at) if self.checked_at else None,
            "latency_ms": self.latency_ms,
        }


def _iso(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).isoformat(timespec="milliseconds")


@dataclass
class _Probe:
    state: ComponentState
    check: Check
    interval: float
    timeout: float
    detail: Detail | None
    on_result: Callable[[bool], None] | None


class LoopLag:
    """How late the event loop wakes a task that sleeps ``interval``: the loop's own health."""

    def __init__(self, interval: float = 0.5) -> None:
        self.interval = interval
        self.last_ms = 0.0
        self.max_ms = 0.0  # over the last minute (reset every 120 ticks)
        self.ticks = 0
        self.last_tick = time.monotonic()

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            before = loop.time()
            await asyncio.sleep(self.interval)
            lag = max(0.0, (loop.time() - before - self.interval) * 1000)
            self.ticks += 1
            if self.ticks % 120 == 0:
                self.max_ms = 0.0
            self.last_ms = round(lag, 1)
            self.max_ms = max(self.max_ms, self.last_ms)
            self.last_tick = time.monotonic()


class HealthMonitor:
    def __init__(self, down_after: int = 2, clock: Callable[[], float] = time.time) -> None:
        self.down_after = down_after
        self.clock = clock
        self.started = time.monotonic()
        self.lag = LoopLag()
        self.probes: dict[str, _Probe] = {}
        self.tasks: list[asyncio.Task[None]] = []

    def add(
        self,
        name: str,
        check: Check,
        interval: float = 2.0,
        timeout: float = 1.5,
        detail: Detail | None = None,
        on_result: Callable[[bool], None] | None = None,
    ) -> None:
        self.probes[name] = _Probe(
            ComponentState(name, since=self.clock()), check, interval, timeout, detail, on_result
        )

    async def start(self) -> None:
        self.tasks = [asyncio.create_task(self.lag.run(), name="health:loop-lag")]
        self.tasks += [asyncio.create_task(self._probe_loop(p), name=f"health:{n}") for n, p in self.probes.items()]

    async def stop(self) -> None:
        for t in self.tasks:
            t.cancel()
        for t in self.tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await t
        self.tasks = []

    async def probe_once(self, name: str) -> None:
        """Run one probe of ``name`` to completion or its timeout, and record the result."""
        p = self.probes[name]
        started = time.monotonic()
        error: str | None = None
        try:
            async with asyncio.timeout(p.timeout):
                await p.check()
        except TimeoutError:
            error = f"no answer within {p.timeout:g} s"
        except Exception as e:
            error = f"{type(e).__name__}: {e}"[:300]
        p.state.latency_ms = round((time.monotonic() - started) * 1000, 1)
        ok = error is None
        if p.state.record(ok, error, self.clock(), self.down_after):
            if ok:
                log.info(f"{name} is ok")
            else:
                log.warning(f"{name} is {p.state.status}", error=error)
        if p.on_result:
            p.on_result(ok)

    async def _probe_loop(self, p: _Probe) -> None:
        # sequential by construction: the next probe starts only after the previous one ended (or timed out)
        while True:
            await self.probe_once(p.state.name)
            await asyncio.sleep(p.interval)

    # ---- what requests read (never awaits a dependency) ----------------------------------------
    def liveness(self) -> dict[str, Any]:
        return {
            "alive": True,
            "pid": os.getpid(),
            "uptime_seconds": round(time.monotonic() - self.started, 1),
            "loop_lag_ms": self.lag.last_ms,
            "loop_lag_max_ms": self.lag.max_ms,
        }

    @property
    def ready(self) -> bool:
        return all(p.state.status is Status.OK for p in self.probes.values())

    def components(self) -> dict[str, dict[str, Any]]:
        out = {}
        for name, p in self.probes.items():
            report = p.state.report()
            if p.detail:
                report.update(p.detail())
            out[name] = report
        return out

    def report(self) -> dict[str, Any]:
        ready = self.ready
        return {
            "ok": ready,
            "status": "ok" if ready else "degraded",
            "components": self.components(),
            **self.liveness(),
        }


def flag_check(read: Callable[[], bool], what: str) -> Check:
    """A check of a flag the component keeps itself (AMI connected, AGI listening)."""

    async def check() -> None:
        if not read():
            raise ConnectionError(what)

    return check


def _local(host: object) -> bool:
    """A database on this machine: loopback or a Unix socket's directory."""
    return isinstance(host, str) and (host.startswith(("127.", "/")) or host in ("localhost", "::1"))


class DatabaseProbe:
    """``SELECT 1`` on a fresh connection of its own, outside the application's pool.

    Fresh, because what the controller needs from the database is new work: a server whose postmaster is
    frozen still answers on connections it already has, but can give no new ones (and a pool refills).
    Outside the pool, because a frozen server accepts TCP connections (the kernel does) and then never
    answers: a probe through the pool would leave a checked-out connection behind at each timeout. This
    one's connection is closed whatever happens (terminated, no goodbye awaited, on a failure or the
    probe's timeout). The result is published as ``Database.available``.
    """

    def __init__(self, db: Database, connect_timeout: float = 5.0) -> None:
        self.db = db
        self.connect_timeout = connect_timeout
        self._tasks: set[asyncio.Future[None]] = set()
        _, self.connect_args = db.engine.dialect.create_connect_args(db.engine.url)
        if "ssl" not in self.connect_args and _local(self.connect_args.get("host")):
            # asyncpg's default ("prefer") builds a TLS context for every connection: a few ms of CPU each
            # time, every 2 s, for a database on this machine that does not speak TLS anyway
            self.connect_args["ssl"] = False

    async def __call__(self) -> None:
        conn: asyncpg.Connection | None = None
        try:
            conn = await asyncpg.connect(**self.connect_args, timeout=self.connect_timeout)
            await conn.fetchval("SELECT 1")
            await conn.close()  # a polite goodbye: the server logs nothing
        except BaseException:  # also the probe's timeout (a cancellation)
            if conn is not None:
                conn.terminate()
            raise

    def record(self, ok: bool) -> None:
        if self.db.available != ok:
            self.db.available = ok
            if ok:  # back from an outage: the pool's connections may be dead ones
                self._tasks.add(task := asyncio.ensure_future(self.db.back()))
                task.add_done_callback(self._tasks.discard)


def build_router(monitor: HealthMonitor, extra: Callable[[], dict[str, Any]] | None = None) -> APIRouter:
    # the ops routes listen on loopback only, like everything else: open to all, declared so
    router = APIRouter(tags=["ops"], dependencies=[Depends(public)])

    @router.get("/livez", summary="Is the controller's event loop alive? Never touches a dependency")
    async def livez() -> dict[str, Any]:
        return monitor.liveness()

    @router.get("/readyz", summary="200 when every dependency is ok, else 503 with the report")
    async def readyz() -> JSONResponse:
        report = monitor.report()
        return JSONResponse(report, status_code=200 if report["ok"] else 503)

    @router.get("/healthz", summary="Each component's state; 200 while the controller runs (status ok|degraded)")
    async def healthz() -> dict[str, Any]:
        return {**monitor.report(), **(extra() if extra else {})}

    return router
