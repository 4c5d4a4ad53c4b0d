"""Read access to the CMS facts: recent interactions and the queue log of a call."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel
from sqlalchemy import select

from cms.models import Interaction, QueueEvent
from hotline.db import Database
from hotline.deps import bearer_agent


class InteractionView(BaseModel):
    model_config = {"from_attributes": True}

    call_id: str
    caller: str | None
    dialed: str | None
    customer_id: int | None
    ivr_path: str | None
    intent: str | None
    queue: str | None
    agent: str | None
    started_at: datetime
    answered_at: datetime | None
    ended_at: datetime | None
    wait_seconds: float | None
    talk_seconds: float | None
    outcome: str
    priority: int
    source: str


class QueueEventView(BaseModel):
    model_config = {"from_attributes": True}

    at: datetime
    event: str
    queue: str | None
    uniqueid: str | None
    agent: str | None
    data: dict[str, Any]


def build_router(db: Database, token_key: bytes) -> APIRouter:
    router = APIRouter(prefix="/api", tags=["cms"], dependencies=[Depends(bearer_agent(token_key))])

    @router.get("/interactions", response_model=list[InteractionView], summary="Most recent calls first")
    async def interactions(limit: int = Query(50, ge=1, le=500)) -> list[InteractionView]:
        async with db.session() as s:
            rows = (await s.execute(select(Interaction).order_by(Interaction.id.desc()).limit(limit))).scalars()
            return [InteractionView.model_validate(r) for r in rows]

    @router.get("/queue-events", response_model=list[QueueEventView], summary="The queue log, oldest first")
    async def queue_events(
        uniqueid: str | None = Query(None, max_length=64), limit: int = Query(200, ge=1, le=2000)
    ) -> list[QueueEventView]:
        stmt = select(QueueEvent).order_by(QueueEvent.id.desc()).limit(limit)
        if uniqueid:
            stmt = stmt.where(QueueEvent.uniqueid == uniqueid)
        async with db.session() as s:
            rows = list((await s.execute(stmt)).scalars())
        return [QueueEventView.model_validate(r) for r in reversed(rows)]

    return router
