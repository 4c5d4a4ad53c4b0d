"""The agent desk's WebSocket: ``/ws/agent?token=…`` (token from ``POST /api/session``), bound to the
signed-in agent's own extension (their username). A revoked session's socket is closed at its next ping."""

from __future__ import annotations

import asyncio
import contextlib

from fastapi import APIRouter, Depends, WebSocket, WebSocketDisconnect
from fastapi.encoders import jsonable_encoder

from cti.hub import AgentHub
from hotline.auth import Access, Principal, Role
from hotline.auth.access import WS_UNAUTHORIZED


def build_router(hub: AgentHub, access: Access) -> APIRouter:
    router = APIRouter()

    @router.websocket("/ws/agent")
    async def agent_socket(ws: WebSocket, me: Principal = Depends(access.requires_ws(Role.agent))) -> None:
        agent = me.username
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
                if not access.sessions.alive(me):
                    await ws.close(code=WS_UNAUTHORIZED, reason="session revoked or expired")
                    break
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
