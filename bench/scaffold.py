"""What the in-process latency benchmarks share: a fake Asterisk's AMI log-in, the controller's web server and
AMI client brought up and down, memory-only sessions, and the measured window (CPU and wall time from the
moment the fake Asterisk is let go to the moment the measuring clients report)."""

from __future__ import annotations

import asyncio
import multiprocessing as mp
import socket
import statistics
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import uvicorn
from fastapi import FastAPI

from hotline.ami import AmiClient
from hotline.auth import Sessions
from hotline.auth.models import User, UserSession
from hotline.db import Database

Serve = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


class MemorySessions(Sessions):
    """Sessions kept in memory only: the benchmark has no database (last-seen writes fail quietly)."""

    async def _store(self, row: UserSession) -> None:
        row.id = int(row.user_id)


def memory_sessions() -> MemorySessions:
    return MemorySessions(Database("postgresql+asyncpg://bench@127.0.0.1:1/none"))


async def tokens_for(sessions: Sessions, users: list[User]) -> list[str]:
    return [(await sessions.issue(user, "127.0.0.1"))[0] for user in users]


class NoCustomers:
    async def card_by_phone(self, number: str | None) -> None:
        return None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# ---- the fake Asterisk (runs in a child process) ---------------------------------------------------
async def ami_login(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, go: Any) -> None:
    """Greet, accept the controller's log-in, say FullyBooted, then wait for the measurement to start."""
    writer.write(b"Asterisk Call Manager/9.0.0\r\n")
    login = await reader.readuntil(b"\r\n\r\n")
    action_id = next(line.split(": ", 1)[1] for line in login.decode().split("\r\n") if line.startswith("ActionID"))
    writer.write(f"Response: Success\r\nActionID: {action_id}\r\nMessage: Authentication accepted\r\n\r\n".encode())
    writer.write(b"Event: FullyBooted\r\nPrivilege: system,all\r\nStatus: Fully Booted\r\n\r\n")
    await writer.drain()
    await asyncio.get_running_loop().run_in_executor(None, go.wait)


def ami_event(name: str, **fields: str) -> bytes:
    return (f"Event: {name}\r\n" + "".join(f"{k}: {v}\r\n" for k, v in fields.items()) + "\r\n").encode()


async def paced(count: int, rate: float) -> AsyncIterator[int]:
    """0 … count-1, the i-th yielded at i / rate seconds from the start."""
    start = time.perf_counter()
    for i in range(count):
        delay = start + i / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        yield i


def serve_fake_ami(port: int, serve: Serve, seconds: float, ready: Any) -> None:
    async def main() -> None:
        server = await asyncio.start_server(serve, "127.0.0.1", port)
        ready.set()
        async with server:
            await asyncio.sleep(seconds)

    asyncio.run(main())


# ---- the controller (this process) -----------------------------------------------------------------
@dataclass
class Window:
    result: Any
    wall: float
    cpu: float


@asynccontextmanager
async def controller(app: FastAPI, http_port: int, ami: AmiClient) -> AsyncIterator[None]:
    """The app served on 127.0.0.1:``http_port`` and ``ami`` logged in to the fake Asterisk; both stopped after."""
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=http_port, log_level="warning"))
    serve_task = asyncio.create_task(server.serve())
    while not server.started:  # noqa: ASYNC110 - uvicorn offers no event for this
        await asyncio.sleep(0.05)
    await ami.start()
    assert await ami.wait_connected(10), "AMI login failed"
    try:
        yield
    finally:
        await ami.stop()
        server.should_exit = True
        await serve_task


async def measured(go: Any, results: mp.Queue, timeout: float) -> Window:  # type: ignore[type-arg]
    """Let the fake Asterisk go and wait for the clients' report: the controller's CPU and the wall time."""
    loop = asyncio.get_running_loop()
    cpu0, t0 = time.process_time(), time.perf_counter()
    go.set()
    result = await loop.run_in_executor(None, results.get, True, timeout)
    return Window(result, time.perf_counter() - t0, time.process_time() - cpu0)


def percentiles(seconds: list[float]) -> tuple[list[float], list[float]]:
    """(the latencies in ms, sorted; their percentiles 1 … 99)."""
    ms = sorted(x * 1000 for x in seconds)
    return ms, statistics.quantiles(ms, n=100)
