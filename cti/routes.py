"""The agent desk's WebSocket: ``/ws/agent?token=…`` (token from ``POST /api/session``)."""

from __future__ import annotations

import asyncio
import contextlib

from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from fastapi.encoders import jsonable_encoder

from cti.hub import AgentHub
from hotline.auth import read_token


def build_router(hub: AgentHub, token_key: bytes) -> APIRouter:
    router = APIRouter()

    @router.websocket("/ws/agent")
    async def agent_socket(ws: WebSocket, token: str = "") -> None:
        claims = read_token(token_key, token)
        if claims is None:
            await ws.close(code=4401, reason="invalid or expired token")
            return
        agent = claims["sub"]
        await ws.accept()
        outbox = hub.connect(agent, hello={"type": "hello", "agent": agent})

        async def sender() -> None:
            while True:
                message = await outbox.get()
                await ws.send_json(jsonable_encoder(message))

        send_task = asyncio.create_task(sender())
        try:
            while True:  # the desk sends pings; anything else is ignored
                text = await ws.receive_text()
                if text == "ping":
                    outbox.put_nowait({"type": "pong"})  # through the outbox: one writer per socket
        except WebSocketDisconnect:
            pass
        finally:
            hub.disconnect(agent, outbox)
            send_task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await send_task

    return router
