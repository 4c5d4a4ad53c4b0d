"""Recordings: the catalogue (filters, transcript search), the audio (every playback audited first), the
audit, and the disk usage."""

from __future__ import annotations

import asyncio
from datetime import datetime
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi import Path as PathParam
from fastapi.responses import FileResponse
from pydantic import BaseModel
from sqlalchemy import func, select

from hotline.auth import Access, Principal, Role
from hotline.db import Database
from hotline.deps import scoped
from hotline.errors import Forbidden, NotFound, ServiceUnavailable
from hotline.logs import get_logger
from recordings.models import Recording, RecordingAccess
from recordings.queries import filtered, snippet, ts_query
from recordings.retention import DiskUsage, Retention
from recordings.transcode import MEDIA_TYPES, SUFFIXES

log = get_logger(__name__)


class RecordingView(BaseModel):
    model_config = {"from_attributes": True}

    id: int
    call_id: str
    path: str
    agent: str | None
    queue: str | None
    customer_id: int | None
    duration_seconds: float
    size_bytes: int
    sha256: str
    created_at: datetime
    format: str
    policy: str | None
    legs: list[dict[str, Any]]
    pauses: list[dict[str, Any]]
    purged_at: datetime | None
    transcript_state: str
    transcript: str | None


class SearchHit(RecordingView):
    snippet: str


class AccessView(BaseModel):
    model_config = {"from_attributes": True}

    id: int
    recording_id: int | None
    call_id: str
    username: str
    action: str
    address: str | None
    at: datetime


def build_router(
    db: Database, root: Path, access: Access, agents_hear_own: bool = True, retention: Retention | None = None
) -> APIRouter:
    base = root.resolve()
    router = APIRouter(prefix="/api/recordings", tags=["recordings"])
    reader = Depends(access.requires(Role.agent, Role.supervisor))
    admin = Depends(access.requires(Role.admin))
    RecordingId = PathParam(ge=1, le=2**31 - 1)

    async def visible(recording_id: int, me: Principal) -> Recording:
        async with db.session() as s:
            rec = await s.get(Recording, recording_id)
        if rec is None:
            raise NotFound(f"no recording {recording_id}")
        if not me.sees(agent=rec.agent, queue=rec.queue, agent_allowed=agents_hear_own):
            raise Forbidden(f"recording {recording_id} is not yours to hear")
        return rec

    @router.get(
        "",
        response_model=list[RecordingView],
        summary="Most recent first: an agent's own, a supervisor's queues', all for admins (filters, transcript words)",
    )
    async def catalogue(
        limit: int = Query(50, ge=1, le=500),
        agent: str | None = Query(None, max_length=16),
        queue: str | None = Query(None, max_length=80),
        since: datetime | None = None,
        until: datetime | None = None,
        q: str | None = Query(None, max_length=200, description="words of the transcript, all required"),
        purged: bool = Query(False, description="also the rows whose file retention deleted"),
        me: Principal = reader,
    ) -> list[RecordingView]:
        latest = select(Recording).order_by(Recording.id.desc()).limit(limit)
        latest = filtered(latest, agent=agent, queue=queue, since=since, until=until, q=q, purged=purged)
        stmt = scoped(latest, me, Recording.agent, Recording.queue, agents_see_own=agents_hear_own)
        async with db.session() as s:
            return [RecordingView.model_validate(r) for r in (await s.execute(stmt)).scalars()]

    @router.get(
        "/search",
        response_model=list[SearchHit],
        summary="Keyword search across the transcripts of the recordings you may hear, best match first",
    )
    async def search(
        q: str = Query(min_length=1, max_length=200),
        limit: int = Query(50, ge=1, le=500),
        me: Principal = reader,
    ) -> list[SearchHit]:
        stmt = filtered(select(Recording, snippet(q).label("snippet")), q=q)
        stmt = stmt.order_by(func.ts_rank(Recording.transcript_tsv, ts_query(q)).desc(), Recording.id.desc())
        stmt = scoped(stmt.limit(limit), me, Recording.agent, Recording.queue, agents_see_own=agents_hear_own)
        async with db.session() as s:
            rows = (await s.execute(stmt)).all()
        return [
            SearchHit.model_validate({**RecordingView.model_validate(r).model_dump(), "snippet": hit})
            for r, hit in rows
        ]

    @router.get("/usage", response_model=DiskUsage, summary="What the kept recordings weigh, and the disk (admins)")
    async def usage(_: Principal = admin) -> DiskUsage:
        if retention is None:
            raise ServiceUnavailable("no retention job in this controller")
        return await retention.usage()

    @router.get("/access-log", response_model=list[AccessView], summary="Who played which recording (admins)")
    async def access_log(
        recording_id: int | None = Query(None, ge=1, le=2**31 - 1),
        limit: int = Query(200, ge=1, le=2000),
        _: Principal = admin,
    ) -> list[AccessView]:
        stmt = select(RecordingAccess).order_by(RecordingAccess.id.desc()).limit(limit)
        if recording_id is not None:
            stmt = stmt.where(RecordingAccess.recording_id == recording_id)
        async with db.session() as s:
            return [AccessView.model_validate(r) for r in (await s.execute(stmt)).scalars()]

    @router.get("/{recording_id}", response_model=RecordingView, summary="One recording's metadata")
    async def metadata(recording_id: int = RecordingId, me: Principal = reader) -> RecordingView:
        return RecordingView.model_validate(await visible(recording_id, me))

    @router.get(
        "/{recording_id}/audio",
        response_class=FileResponse,
        summary="The audio (Ogg/Opus, or WAV for older ones; byte ranges served), audited before it is served "
        "(503 if the audit cannot be written)",
    )
    async def audio(
        request: Request,
        recording_id: int = RecordingId,
        download: bool = Query(False, description="as an attachment instead of inline playback"),
        me: Principal = reader,
    ) -> FileResponse:
        rec = await visible(recording_id, me)
        if rec.purged_at is not None:
            raise NotFound(f"recording {recording_id}'s file was deleted at the end of its retention")
        path = (root / rec.path).resolve()
        if base not in path.parents or not await asyncio.to_thread(path.is_file):
            raise NotFound(f"recording {recording_id}'s file is missing")
        action = "download" if download else "play"
        try:
            async with db.session() as s:
                s.add(
                    RecordingAccess(
                        recording_id=rec.id,
                        call_id=rec.call_id,
                        user_id=me.user_id,
                        username=me.username,
                        action=action,
                        address=request.client.host if request.client else None,
                    )
                )
                await s.commit()
        except Exception as e:
            log.warning("recording access not audited: refused", recording=rec.id, user=me.username, error=repr(e))
            raise ServiceUnavailable("the access to this recording cannot be audited right now: try again") from e
        log.info("recording served", recording=rec.id, user=me.username, action=action)
        return FileResponse(
            path,
            media_type=MEDIA_TYPES.get(rec.format, "application/octet-stream"),
            filename=f"{rec.call_id}{SUFFIXES.get(rec.format, path.suffix)}",
            content_disposition_type="attachment" if download else "inline",
        )

    return router
