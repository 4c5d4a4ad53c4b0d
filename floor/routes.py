"""The supervisors' floor: the wallboard's WebSocket and snapshot, listen/whisper/barge, forced states,
and the supervision log. Supervisors see and act on the queues they supervise (and those queues'
agents) only; admins on all."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from fastapi import APIRouter, Depends, Query, WebSocket, WebSocketDisconnect
from fastapi import Path as PathParam

from floor.board import Viewer, Wallboard
from floor.phones import create_phone, list_phones
from floor.schemas import ForcePauseRequest, PhoneCreate, PhoneCreated, PhoneView, SuperviseRequest, SupervisionView
from floor.supervise import Supervision
from hotline.auth import Access, Principal, Role
from hotline.auth.access import WS_UNAUTHORIZED

Extension = PathParam(pattern=r"^\d{1,16}$")


def scope_of(me: Principal) -> frozenset[str] | None:
    return None if me.is_admin else me.supervised_queues


def build_router(board: Wallboard, supervision: Supervision, access: Access) -> APIRouter:
    router = APIRouter(tags=["floor"])
    supervisor = Depends(access.requires(Role.supervisor))
    admin = Depends(access.requires(Role.admin))

    @router.get("/api/floor", summary="The wallboard now: the queues you supervise and their agents")
    async def floor_now(me: Principal = supervisor) -> dict[str, Any]:
        return board.snapshot(Viewer(me.username, scope_of(me)))

    @router.post(
        "/api/floor/agents/{extension}/supervise",
        status_code=202,
        summary="Ring your own phone into the agent's call: listen, whisper (agent only) or barge (both)",
    )
    async def supervise(
        body: SuperviseRequest, extension: str = Extension, me: Principal = supervisor
    ) -> dict[str, Any]:
        entry = await supervision.spy(me, extension, body.mode)
        return {"audit_id": entry, "agent": extension, "mode": body.mode.value}

    @router.post("/api/floor/agents/{extension}/pause", summary="Pause the agent, with a reason (audited)")
    async def force_pause(
        body: ForcePauseRequest, extension: str = Extension, me: Principal = supervisor
    ) -> dict[str, Any]:
        entry = await supervision.force(me, extension, "pause", body.reason)
        return {"audit_id": entry, "agent": extension, "action": "pause"}

    @router.post("/api/floor/agents/{extension}/logout", summary="Log the agent out of the queues (audited)")
    async def force_logout(extension: str = Extension, me: Principal = supervisor) -> dict[str, Any]:
        entry = await supervision.force(me, extension, "logout")
        return {"audit_id": entry, "agent": extension, "action": "logout"}

    @router.get(
        "/api/floor/supervision-log",
        response_model=list[SupervisionView],
        summary="Who listened to, whispered to or barged into whom, and forced states: newest first",
    )
    async def supervision_log(limit: int = Query(100, ge=1, le=1000), _: Principal = admin) -> list[SupervisionView]:
        return [SupervisionView.model_validate(e) for e in await supervision.log(limit)]

    @router.get("/api/floor/phones", response_model=list[PhoneView], summary="Supervisors' phones")
    async def phones(_: Principal = admin) -> list[PhoneView]:
        return await list_phones(supervision.db)

    @router.post(
        "/api/floor/phones",
        response_model=PhoneCreated,
        status_code=201,
        summary="Give a supervisor a phone for listen/whisper/barge: generated SIP password, shown once",
    )
    async def add_phone(body: PhoneCreate, _: Principal = admin) -> PhoneCreated:
        return await create_phone(supervision.db, body)

    @router.websocket("/ws/wallboard")
    async def wallboard_socket(ws: WebSocket, me: Principal = Depends(access.requires_ws(Role.supervisor))) -> None:
        await ws.accept()
        viewer = board.connect(me.username, scope_of(me))

        async def sender() -> None:
            while True:
                await ws.send_text(await board.next_message(viewer))

        send_task = asyncio.create_task(sender())
        try:
            while True:  # the board sends pings; anything else is ignored
                text = await ws.receive_text()
                if not access.sessions.alive(me):
                    await ws.close(code=WS_UNAUTHORIZED, reason="session revoked or expired")
                    break
                if text == "ping":
                    with contextlib.suppress(asyncio.QueueFull):
                        viewer.outbox.put_nowait('{"type":"pong"}')
        except WebSocketDisconnect:
            pass
        finally:
            board.disconnect(viewer)
            send_task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await send_task

    return router
