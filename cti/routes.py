"""The agent desk's WebSocket: ``/ws/agent?token=…`` (token from ``POST /api/session``), bound to the
signed-in agent's own extension (their username). A revoked session's socket is closed at its next ping."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from fastapi import APIRouter, Depends, WebSocket, WebSocketDisconnect
from fastapi.encoders import jsonable_encoder

from cti.controls import CallControls, CurrentCall, TransferRequest
from cti.hub import AgentHub
from hotline.auth import Access, Principal, Role
from hotline.auth.access import WS_UNAUTHORIZED


def build_router(hub: AgentHub, access: Access, controls: CallControls | None = None) -> APIRouter:
    router = APIRouter()
    if controls is not None:
        router.include_router(controls_router(controls, access))

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


def controls_router(controls: CallControls, access: Access) -> APIRouter:
    """The desk's call controls, on the signed-in agent's own current call only."""
    router = APIRouter(prefix="/api/calls/me", tags=["desk"])
    agent = Depends(access.requires(Role.agent))

    @router.get("", response_model=CurrentCall, summary="The call you are on now")
    async def current_call(me: Principal = agent) -> CurrentCall:
        return controls.view(me.username)

    @router.post("/hold", response_model=CurrentCall, summary="Put the caller on hold (music)")
    async def hold(me: Principal = agent) -> CurrentCall:
        return await controls.hold(me.username)

    @router.post("/resume", response_model=CurrentCall, summary="Take the caller back from hold")
    async def resume(me: Principal = agent) -> CurrentCall:
        return await controls.resume(me.username)

    @router.post("/transfer", summary="Blind or attended transfer to a queue, an agent or an outside number")
    async def transfer(body: TransferRequest, me: Principal = agent) -> dict[str, Any]:
        return await controls.transfer(me.username, body)

    @router.post("/transfer/complete", summary="Attended transfer: leave the caller with the consulted party")
    async def complete(me: Principal = agent) -> dict[str, Any]:
        return await controls.complete_transfer(me.username)

    @router.post("/transfer/cancel", summary="Attended transfer: hang the consultation up, back to the caller")
    async def cancel(me: Principal = agent) -> dict[str, Any]:
        return await controls.cancel_transfer(me.username)

    @router.post("/hangup", summary="Hang up your call")
    async def hangup(me: Principal = agent) -> dict[str, Any]:
        return await controls.hangup(me.username)

    return router
