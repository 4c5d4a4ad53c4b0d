"""Recordings: the catalogue and the audio."""

from __future__ import annotations

import asyncio
from datetime import datetime
from pathlib import Path

from fastapi import APIRouter, Depends, Query
from fastapi import Path as PathParam
from fastapi.responses import FileResponse
from pydantic import BaseModel
from sqlalchemy import select

from hotline.db import Database
from hotline.deps import bearer_agent
from hotline.errors import NotFound
from recordings.models import Recording


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


def build_router(db: Database, root: Path, token_key: bytes) -> APIRouter:
    base = root.resolve()
    router = APIRouter(prefix="/api/recordings", tags=["recordings"], dependencies=[Depends(bearer_agent(token_key))])

    @router.get("", response_model=list[RecordingView])
    async def catalogue(limit: int = Query(50, ge=1, le=500)) -> list[RecordingView]:
        async with db.session() as s:
            rows = (await s.execute(select(Recording).order_by(Recording.id.desc()).limit(limit))).scalars()
            return [RecordingView.model_validate(r) for r in rows]

    @router.get("/{recording_id}/audio", response_class=FileResponse, summary="The WAV file")
    async def audio(recording_id: int = PathParam(ge=1, le=2**31 - 1)) -> FileResponse:
        async with db.session() as s:
            rec = await s.get(Recording, recording_id)
        if rec is None:
            raise NotFound(f"no recording {recording_id}")
        path = (root / rec.path).resolve()
        if base not in path.parents or not await asyncio.to_thread(path.is_file):
            raise NotFound(f"recording {recording_id}'s file is missing")
        return FileResponse(path, media_type="audio/wav", filename=f"{rec.call_id}.wav")

    return router
