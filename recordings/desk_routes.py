"""The desk's recording controls: start (on-demand queues), pause and resume, on the signed-in agent's own
current call only. Each action is written to the recordings' audit log (``recording_access``) once done."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import APIRouter, Depends, Request

from hotline.auth import Access, Principal, Role
from hotline.db import Database
from hotline.logs import get_logger
from recordings.live import LiveRecordings, RecordingState
from recordings.models import RecordingAccess

log = get_logger(__name__)


def build_router(live: LiveRecordings, db: Database, access: Access) -> APIRouter:
    router = APIRouter(prefix="/api/calls/me/recording", tags=["desk"])
    agent = Depends(access.requires(Role.agent))

    async def audited(
        request: Request, me: Principal, action: str, act: Callable[[str], Awaitable[RecordingState]]
    ) -> RecordingState:
        state = await act(me.username)
        try:
            async with db.session() as s:
                s.add(
                    RecordingAccess(
                        call_id=state.call_id,
                        user_id=me.user_id,
                        username=me.username,
                        action=action,
                        address=request.client.host if request.client else None,
                    )
                )
                await s.commit()
        except Exception as e:  # the action is done on the call: say so in the log, do not hide it
            log.error("desk recording action not audited", action=action, call=state.call_id, error=repr(e))
        return state

    @router.get("", response_model=RecordingState, summary="Your current call's recording: running, paused")
    async def state(me: Principal = agent) -> RecordingState:
        return await live.state(me.username)

    @router.post("/start", response_model=RecordingState, summary="Record your current call (on-demand queues)")
    async def start(request: Request, me: Principal = agent) -> RecordingState:
        return await audited(request, me, "start", live.start)

    @router.post("/pause", response_model=RecordingState, summary="Pause the recording (silence: card data)")
    async def pause(request: Request, me: Principal = agent) -> RecordingState:
        return await audited(request, me, "pause", live.pause)

    @router.post("/resume", response_model=RecordingState, summary="Resume the paused recording")
    async def resume(request: Request, me: Principal = agent) -> RecordingState:
        return await audited(request, me, "resume", live.resume)

    return router
