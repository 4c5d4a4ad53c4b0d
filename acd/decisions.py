"""Routing decisions as records: kept by the outbox until PostgreSQL has them, stored once (decision id)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from acd.models import RoutingDecisionRow
from hotline.db import Database, table_of

DECISION_KIND = "routing_decision"


class Reason(BaseModel):
    kind: str  # tier, dedicated, sticky, skill, overflow, hours, menu
    detail: str


class DecisionRecord(BaseModel):
    decision_id: str
    call_id: str
    at: datetime
    customer_id: int | None
    tier: str | None
    intent: str | None
    action: str
    queue: str
    priority: int
    preferred_agent: str | None
    preferred_reason: str | None
    max_penalty: int | None
    reasons: list[Reason]


_STORE = insert(table_of(RoutingDecisionRow)).on_conflict_do_nothing(index_elements=["decision_id"])


async def store_decisions(session: AsyncSession, records: list[DecisionRecord]) -> None:
    """The batch in one statement; a decision delivered twice is stored once."""
    await session.execute(_STORE, [r.model_dump() for r in records])


async def decisions_of(db: Database, call_id: str) -> list[DecisionRecord]:
    async with db.session() as s:
        rows = (
            await s.execute(
                select(RoutingDecisionRow).where(RoutingDecisionRow.call_id == call_id).order_by(RoutingDecisionRow.at)
            )
        ).scalars()
        return [
            DecisionRecord(
                decision_id=r.decision_id,
                call_id=r.call_id,
                at=r.at,
                customer_id=r.customer_id,
                tier=r.tier,
                intent=r.intent,
                action=r.action,
                queue=r.queue,
                priority=r.priority,
                preferred_agent=r.preferred_agent,
                preferred_reason=r.preferred_reason,
                max_penalty=r.max_penalty,
                reasons=[Reason.model_validate(x) for x in r.reasons],
            )
            for r in rows
        ]
