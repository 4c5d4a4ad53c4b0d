"""One real stack (PostgreSQL + Asterisk + controller) for the end-to-end session, and SIPp phones."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
import websockets

from acd.demo import demo_agent_password, demo_sip_password
from tests.e2e.harness import HotlineStack, Phones

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HotlineStack]:
    s = HotlineStack(tmp_path_factory.mktemp("stack"))
    try:
        s.start()
        yield s
    finally:
        s.stop()


@pytest.fixture
def phones(stack: HotlineStack, tmp_path: Path) -> Iterator[Phones]:
    p = Phones(stack, tmp_path)
    try:
        yield p
    finally:
        p.stop_all()


class Api:
    def __init__(self, base: str) -> None:
        self.http = httpx.AsyncClient(base_url=base, timeout=15)

    async def token(self, username: str, password: str | None = None) -> str:
        """A session token; an agent's username is their extension (demo password by default)."""
        r = await self.http.post(
            "/api/session", json={"username": username, "password": password or demo_agent_password(username)}
        )
        r.raise_for_status()
        return str(r.json()["token"])

    async def post(self, path: str, token: str, body: dict[str, Any] | None = None) -> httpx.Response:
        return await self.http.post(path, json=body, headers={"Authorization": f"Bearer {token}"})

    async def get(self, path: str, token: str, **params: Any) -> httpx.Response:
        return await self.http.get(path, params=params, headers={"Authorization": f"Bearer {token}"})


@pytest.fixture
async def api(stack: HotlineStack) -> AsyncIterator[Api]:
    a = Api(stack.url)
    yield a
    await a.http.aclose()


class Desk:
    """An agent's desk connection: records every message with the wall-clock time it arrived."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.messages: list[tuple[float, dict[str, Any]]] = []
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> Desk:
        self.ws = await websockets.connect(self.url)
        self._task = asyncio.create_task(self._read())
        await self.wait_for("hello", 5)
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._task is not None
        self._task.cancel()
        await self.ws.close()

    async def _read(self) -> None:
        async for raw in self.ws:
            self.messages.append((time.time(), json.loads(raw)))

    def of_type(self, kind: str) -> list[tuple[float, dict[str, Any]]]:
        return [(t, m) for t, m in self.messages if m.get("type") == kind]

    async def wait_for(self, kind: str, timeout: float) -> tuple[float, dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.of_type(kind)
            if found:
                return found[-1]
            await asyncio.sleep(0.05)
        raise AssertionError(f"no {kind!r} message within {timeout} s; got {[m for _, m in self.messages]}")


def desk(stack: HotlineStack, token: str) -> Desk:
    return Desk(f"ws://127.0.0.1:{stack.ports['http']}/ws/agent?token={token}")


async def fetch_row(stack: HotlineStack, query: str, *args: Any, timeout: float = 20) -> asyncpg.Record:
    """The first row of ``query`` once it exists (rows are written when the call ends)."""
    deadline = time.monotonic() + timeout
    while True:
        conn = await asyncpg.connect(stack.db_dsn, timeout=5)
        try:
            row = await conn.fetchrow(query, *args)
        finally:
            await conn.close()
        if row is not None:
            return row
        if time.monotonic() > deadline:
            raise AssertionError(f"no row for {query} {args} within {timeout} s")
        await asyncio.sleep(0.25)


async def fetch_all(stack: HotlineStack, query: str, *args: Any) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(stack.db_dsn, timeout=5)
    try:
        return list(await conn.fetch(query, *args))
    finally:
        await conn.close()


SIP_PASSWORD = demo_sip_password
Login = Callable[[str], Coroutine[Any, Any, str]]  # logs an agent in to the queue, returns its token


@pytest.fixture
async def agent_session(api: Api) -> AsyncIterator[Login]:
    """Log agents in to the queue for one test; log them out afterwards whatever happened."""
    tokens: list[str] = []

    async def login(extension: str) -> str:
        token = await api.token(extension)
        tokens.append(token)
        r = await api.post("/api/agents/me/login", token)
        assert r.status_code == 200, r.text
        assert r.json()["state"] == "available"
        return token

    yield login
    for token in tokens:
        with contextlib.suppress(Exception):  # a test may have taken the stack down on purpose
            await api.post("/api/agents/me/logout", token)


async def wait(proc_wait: Callable[[float], int], timeout: float) -> int:
    return await asyncio.to_thread(proc_wait, timeout)
