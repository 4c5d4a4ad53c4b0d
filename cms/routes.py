"""Read access to the CMS facts: recent interactions and the queue log of a call."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel
from sqlalchemy import select

from cms.models import Interaction, QueueLogLine
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


class QueueLogView(BaseModel):
    """One line of Asterisk's queue_log (times are whole seconds, as Asterisk writes them)."""

    model_config = {"from_attributes": True}

    time: datetime
    callid: str | None
    queue: str | None
    agent: str | None
    event: str
    data1: str | None
    data2: str | None
    data3: str | None
    data4: str | None
    data5: str | None


def build_router(db: Database, token_key: bytes) -> APIRouter:
    router = APIRouter(prefix="/api", tags=["cms"], dependencies=[Depends(bearer_agent(token_key))])

    @router.get("/interactions", response_model=list[InteractionView], summary="Most recent calls first")
    async def interactions(limit: int = Query(50, ge=1, le=500)) -> list[InteractionView]:
        async with db.session() as s:
            rows = (await s.execute(select(Interaction).order_by(Interaction.id.desc()).limit(limit))).scalars()
            return [InteractionView.model_validate(r) for r in rows]

    @router.get("/queue-log", response_model=list[QueueLogView], summary="Asterisk's queue log, oldest first")
    async def queue_log(
        callid: str | None = Query(None, max_length=64), limit: int = Query(200, ge=1, le=2000)
    ) -> list[QueueLogView]:
        stmt = select(QueueLogLine).order_by(QueueLogLine.id.desc()).limit(limit)
        if callid:
            stmt = stmt.where(QueueLogLine.callid == callid)
        async with db.session() as s:
            rows = list((await s.execute(stmt)).scalars())
        return [QueueLogView.model_validate(r) for r in reversed(rows)]

    return router
