"""The desk's WebSocket through a real server: bound to the signed-in agent, refused otherwise, and
closed once its session is revoked."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import uvicorn
import websockets
from websockets.exceptions import ConnectionClosed

from hotline.db import Database
from tests.integration.appkit import Kit, app_kit


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
async def served(db: Database, pg_url: str, tmp_path: Path) -> AsyncIterator[tuple[Kit, str]]:
    async with app_kit(pg_url, tmp_path) as kit:
        port = _port()
        server = uvicorn.Server(uvicorn.Config(kit.app, host="127.0.0.1", port=port, lifespan="off", log_config=None))
        task = asyncio.create_task(server.serve())
        while not server.started:  # noqa: ASYNC110 - uvicorn offers no event for this
            await asyncio.sleep(0.02)
        try:
            yield kit, f"ws://127.0.0.1:{port}/ws/agent"
        finally:
            server.should_exit = True
            await task


async def _close_code(url: str) -> int:
    async with websockets.connect(url) as ws:
        with pytest.raises(ConnectionClosed) as closed:
            await asyncio.wait_for(ws.recv(), 5)
    assert closed.value.rcvd is not None
    return closed.value.rcvd.code


async def test_socket_is_bound_to_the_signed_in_agent(served: tuple[Kit, str]) -> None:
    kit, url = served
    token = (await kit.login("1001"))["Authorization"][7:]
    async with websockets.connect(f"{url}?token={token}") as ws:
        assert json.loads(await asyncio.wait_for(ws.recv(), 5)) == {"type": "hello", "agent": "1001"}
        assert (
            kit.controller.plugin("cti").hub.connected("1001") == 1
            and kit.controller.plugin("cti").hub.connected("1002") == 0
        )


async def test_socket_refuses_no_session_and_other_roles(served: tuple[Kit, str]) -> None:
    kit, url = served
    assert await _close_code(url) == 4401
    assert await _close_code(f"{url}?token=forged") == 4401
    supervisor = (await kit.login("demo-supervisor"))["Authorization"][7:]
    assert await _close_code(f"{url}?token={supervisor}") == 4403


async def test_socket_of_a_revoked_session_is_closed_at_its_next_ping(served: tuple[Kit, str]) -> None:
    kit, url = served
    headers = await kit.login("1001")
    async with websockets.connect(f"{url}?token={headers['Authorization'][7:]}") as ws:
        await asyncio.wait_for(ws.recv(), 5)  # hello
        await ws.send("ping")
        assert json.loads(await asyncio.wait_for(ws.recv(), 5)) == {"type": "pong"}
        assert (await kit.client.delete("/api/session", headers=headers)).status_code == 204
        await ws.send("ping")
        with pytest.raises(ConnectionClosed) as closed:
            await asyncio.wait_for(ws.recv(), 5)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4401
