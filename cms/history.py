"""A customer's recent contacts, for the agent's screen: repeat callers are the ones to handle best."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.dialects.postgresql import distinct_on

from cms.interface import EndedCall
from cms.models import CallLeg, Interaction
from hotline.db import Database

# a screen-pop's read, on every call with a known customer: built once (building it costs more than running it)
RECENT = (
    select(
        Interaction.started_at,
        Interaction.outcome,
        Interaction.agent,
        Interaction.intent,
        Interaction.talk_seconds,
    )
    .where(Interaction.customer_id == bindparam("customer_id"))
    .order_by(Interaction.started_at.desc())
    .limit(bindparam("limit"))
)


class InteractionHistory:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def recent(self, customer_id: int, limit: int = 3) -> list[dict[str, Any]]:
        rows = await self.db.fetch(RECENT, {"customer_id": customer_id, "limit": limit})
        return [
            {
                "at": r.started_at.isoformat(),
                "outcome": r.outcome,
                "agent": r.agent,
                "intent": r.intent,
                "talk_seconds": r.talk_seconds,
            }
            for r in rows
        ]

    async def ended_since(self, since: datetime) -> list[EndedCall]:
        async with self.db.session() as s:
            rows = (
                await s.execute(select(Interaction).where(Interaction.ended_at >= since).order_by(Interaction.ended_at))
            ).scalars()
            calls = list(rows)
            legs = (
                await s.execute(
                    select(CallLeg.call_id, CallLeg.agent, CallLeg.answered_at, CallLeg.ended_at).where(
                        CallLeg.call_id.in_([c.call_id for c in calls]),
                        CallLeg.role == "agent",
                        CallLeg.agent.is_not(None),
                        CallLeg.answered_at.is_not(None),
                    )
                )
            ).all()
        handled: defaultdict[str, list[tuple[str, float]]] = defaultdict(list)
        for leg in legs:
            talk = (leg.ended_at - leg.answered_at).total_seconds() if leg.ended_at else 0.0
            handled[leg.call_id].append((leg.agent, talk))
        return [
            EndedCall(
                call_id=c.call_id,
                queue=c.queue,
                agent=c.agent,
                outcome=c.outcome,
                queued_at=c.queued_at,
                answered_at=c.answered_at,
                ended_at=c.ended_at,
                wait_seconds=c.wait_seconds,
                talk_seconds=c.talk_seconds,
                # a back-filled call has no legs: its agent and talk time stand for them
                handled_by=handled.get(c.call_id)
                or ([(c.agent, c.talk_seconds or 0.0)] if c.agent and c.answered_at else []),
            )
            for c in calls
        ]

    async def last_agent(self, customer_id: int, since: datetime) -> str | None:
        stmt = (
            select(Interaction.agent)
            .where(
                Interaction.customer_id == customer_id,
                Interaction.started_at >= since,
                Interaction.agent.is_not(None),
            )
            .order_by(Interaction.started_at.desc())
            .limit(1)
        )
        async with self.db.session() as s:
            return (await s.execute(stmt)).scalar_one_or_none()

    async def last_agents(self, since: datetime) -> list[tuple[int, str, datetime]]:
        stmt = (
            select(Interaction.customer_id, Interaction.agent, Interaction.started_at)
            .where(
                Interaction.started_at >= since,
                Interaction.agent.is_not(None),
                Interaction.customer_id.is_not(None),
            )
            .order_by(Interaction.customer_id, Interaction.started_at.desc())
            .ext(distinct_on(Interaction.customer_id))
        )
        async with self.db.session() as s:
            rows = (await s.execute(stmt)).all()
        return [(r.customer_id, r.agent, r.started_at) for r in rows]
