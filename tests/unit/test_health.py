"""Liveness never waits on a dependency; component states follow their probes; one probe at a time."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest
from fastapi import FastAPI

from hotline.health import ComponentState, HealthMonitor, LoopLag, Status, build_router, flag_check


def test_state_goes_degraded_then_down_then_ok_with_since() -> None:
    s = ComponentState("database", since=0.0)
    assert s.status is Status.DEGRADED and s.error == "not probed yet"
    assert s.record(True, None, 10.0, down_after=2) and s.status is Status.OK and s.since == 10.0
    assert s.record(False, "timeout", 12.0, down_after=2) and s.status is Status.DEGRADED and s.since == 12.0
    assert s.record(False, "timeout", 14.0, down_after=2) and s.status is Status.DOWN and s.since == 14.0
    assert not s.record(False, "refused", 16.0, down_after=2)  # still down: since stays, error is the latest
    assert s.since == 14.0 and s.error == "refused" and s.failures == 3
    assert s.record(True, None, 18.0, down_after=2) and s.status is Status.OK and s.error is None


async def test_hanging_probe_is_bounded_and_never_blocks_liveness() -> None:
    in_flight = 0
    most = 0
    calls = 0

    async def hangs() -> None:
        nonlocal in_flight, most, calls
        calls += 1
        in_flight += 1
        most = max(most, in_flight)
        try:
            await asyncio.Event().wait()
        finally:
            in_flight -= 1

    monitor = HealthMonitor(down_after=2)
    monitor.add("database", hangs, interval=0.02, timeout=0.05)
    monitor.add("ami", flag_check(lambda: True, "no AMI"), interval=0.02)
    app = FastAPI()
    app.include_router(build_router(monitor, lambda: {"live_calls": 0}))
    await monitor.start()
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as http:
            started = time.monotonic()
            r = await http.get("/livez")
            assert r.status_code == 200 and r.json()["alive"] is True
            assert time.monotonic() - started < 0.05  # answered while a probe hangs
            await asyncio.sleep(0.4)
            health = (await http.get("/healthz")).json()
            ready = await http.get("/readyz")
    finally:
        await monitor.stop()
    assert health["ok"] is False and health["status"] == "degraded" and health["live_calls"] == 0
    db = health["components"]["database"]
    assert db["status"] == "down" and db["ok"] is False and "no answer within 0.05 s" in db["error"]
    assert health["components"]["ami"] == {**health["components"]["ami"], "ok": True, "status": "ok"}
    assert ready.status_code == 503 and ready.json()["components"]["database"]["status"] == "down"
    assert most == 1 and in_flight == 0  # one probe at a time, each cancelled at its timeout
    assert 3 <= calls <= 10  # ~0.07 s per round over 0.4 s


async def test_all_ok_is_ready_and_result_callback_sees_each_probe() -> None:
    seen: list[bool] = []
    up = True

    async def check() -> None:
        if not up:
            raise ConnectionRefusedError("refused")

    monitor = HealthMonitor()
    monitor.add("database", check, on_result=seen.append, detail=lambda: {"extra": 1})
    await monitor.probe_once("database")
    assert monitor.ready and monitor.report()["status"] == "ok"
    assert monitor.report()["components"]["database"]["extra"] == 1
    up = False
    await monitor.probe_once("database")
    assert not monitor.ready and seen == [True, False]
    assert monitor.report()["components"]["database"]["error"] == "ConnectionRefusedError: refused"


async def test_loop_lag_measures_a_blocked_loop() -> None:
    lag = LoopLag(interval=0.05)
    task = asyncio.create_task(lag.run())
    await asyncio.sleep(0.01)
    time.sleep(0.2)  # noqa: ASYNC251 -- blocks the loop on purpose
    await asyncio.sleep(0.1)
    task.cancel()
    assert lag.max_ms >= 100, lag.max_ms


async def test_database_probe_against_a_frozen_server_leaks_no_connection() -> None:
    """A server that accepts and never answers (a SIGSTOPped PostgreSQL looks so): every timed-out probe
    closes its socket, and ``Database.available`` goes False."""
    from hotline.db import Database
    from hotline.health import DatabaseProbe

    open_now = 0
    accepted = 0

    async def frozen(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal open_now, accepted
        accepted += 1
        open_now += 1
        await reader.read()  # until the client closes
        open_now -= 1
        writer.close()

    server = await asyncio.start_server(frozen, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    db = Database(f"postgresql+asyncpg://hotline@127.0.0.1:{port}/hotline")
    probe = DatabaseProbe(db)
    monitor = HealthMonitor()
    monitor.add("database", probe, timeout=0.1, on_result=probe.record)
    try:
        for _ in range(4):
            await monitor.probe_once("database")
        await asyncio.sleep(0.1)
        assert accepted == 4 and open_now == 0
        assert db.available is False and monitor.report()["components"]["database"]["status"] == "down"
    finally:
        server.close()
        await db.close()


@pytest.mark.parametrize(
    ("url", "ssl"),
    [
        ("postgresql+asyncpg://hotline@127.0.0.1:5433/hotline", False),  # this machine: no TLS attempt
        ("postgresql+asyncpg://hotline@:5433/hotline?host=/srv/pg/run", False),
        ("postgresql+asyncpg://hotline@db.example:5432/hotline", None),  # elsewhere: asyncpg's default stands
        ("postgresql+asyncpg://hotline@127.0.0.1:5433/hotline?ssl=require", "require"),  # as configured
    ],
)
async def test_the_database_probe_skips_tls_only_for_a_local_database(url: str, ssl: object) -> None:
    from hotline.db import Database
    from hotline.health import DatabaseProbe

    db = Database(url)
    try:
        assert DatabaseProbe(db).connect_args.get("ssl") == ssl
    finally:
        await db.close()
