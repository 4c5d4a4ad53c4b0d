"""Read access to the CMS facts: recent interactions and the queue log of a call."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Depends, Query
from fastapi import Path as PathParam
from pydantic import BaseModel
from sqlalchemy import select

from cms.models import Interaction, QueueLogLine
from hotline.auth import Access, Principal, Role
from hotline.db import Database
from hotline.deps import scoped
from hotline.errors import Forbidden, NotFound


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


def build_router(db: Database, access: Access) -> APIRouter:
    router = APIRouter(prefix="/api", tags=["cms"])
    reader = Depends(access.requires(Role.agent, Role.supervisor))
    supervisor = Depends(access.requires(Role.supervisor))

    @router.get(
        "/interactions",
        response_model=list[InteractionView],
        summary="Most recent calls first: an agent's own, a supervisor's queues', all for admins",
    )
    async def interactions(limit: int = Query(50, ge=1, le=500), me: Principal = reader) -> list[InteractionView]:
        stmt = scoped(
            select(Interaction).order_by(Interaction.id.desc()).limit(limit), me, Interaction.agent, Interaction.queue
        )
        async with db.session() as s:
            return [InteractionView.model_validate(r) for r in (await s.execute(stmt)).scalars()]

    @router.get("/interactions/{call_id}", response_model=InteractionView, summary="One call, if it is yours to see")
    async def interaction(
        call_id: str = PathParam(max_length=64, pattern=r"^[\w.-]+$"), me: Principal = reader
    ) -> InteractionView:
        async with db.session() as s:
            row = (await s.execute(select(Interaction).where(Interaction.call_id == call_id))).scalar_one_or_none()
        if row is None:
            raise NotFound(f"no interaction {call_id}")
        if not me.sees(agent=row.agent, queue=row.queue):
            raise Forbidden(f"interaction {call_id} is not yours to see")
        return InteractionView.model_validate(row)

    @router.get(
        "/queue-log",
        response_model=list[QueueLogView],
        summary="Asterisk's queue log of the supervised queues, oldest first",
    )
    async def queue_log(
        callid: str | None = Query(None, max_length=64),
        limit: int = Query(200, ge=1, le=2000),
        me: Principal = supervisor,
    ) -> list[QueueLogView]:
        stmt = select(QueueLogLine).order_by(QueueLogLine.id.desc()).limit(limit)
        if callid:
            stmt = stmt.where(QueueLogLine.callid == callid)
        stmt = scoped(stmt, me, None, QueueLogLine.queue)
        async with db.session() as s:
            rows = list((await s.execute(stmt)).scalars())
        return [QueueLogView.model_validate(r) for r in reversed(rows)]

    return router
