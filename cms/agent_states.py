"""The CMS's own record of agents' states (from acd's ``AgentStateChanged``) and of survey scores (from ivr's
``SurveyAnswered``), stored through the durable outbox so each change lands exactly once.

A state change closes the agent's open span at the change's time and opens the next; the closed span's
15-minute intervals are marked for recounting, and a call whose wrap-up was still open when its facts were
derived is derived again.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from pydantic import BaseModel
from sqlalchemy import select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from acd.events import AgentStateChanged
from cms.dirty import mark, span_keys
from cms.facts import WRAP_AFTER, WRAP_BEFORE
from cms.models import AgentStateSpan, CallFact, FactPending, SurveyScore
from hotline.outbox import Outbox
from ivr.events import SurveyAnswered

STATE_KIND = "cms.agent_state"
SURVEY_KIND = "cms.survey"


class StateChange(BaseModel):
    agent: str
    state: str
    reason: str | None = None
    since: datetime


class Survey(BaseModel):
    call_id: str
    agent: str | None = None
    score: int
    at: datetime


async def store_state_changes(session: AsyncSession, records: list[StateChange]) -> None:
    for r in sorted(records, key=lambda r: r.since):
        closed = (
            await session.execute(
                update(AgentStateSpan)
                .where(
                    AgentStateSpan.agent == r.agent,
                    AgentStateSpan.ended_at.is_(None),
                    AgentStateSpan.started_at < r.since,
                )
                .values(ended_at=r.since)
                .returning(AgentStateSpan.state, AgentStateSpan.started_at)
            )
        ).all()
        stmt = pg_insert(AgentStateSpan).values(agent=r.agent, state=r.state, reason=r.reason, started_at=r.since)
        await session.execute(
            stmt.on_conflict_do_update(
                index_elements=["agent", "started_at"],
                set_={"state": stmt.excluded.state, "reason": stmt.excluded.reason},
            )
        )
        for span in closed:
            await mark(session, span_keys(r.agent, span.started_at, r.since))
            if span.state == "wrap_up":
                await _rederive_waiting_for_wrap_up(session, r.agent, span.started_at)


async def _rederive_waiting_for_wrap_up(session: AsyncSession, agent: str, wrap_started: datetime) -> None:
    calls = select(CallFact.call_id, text("now()")).where(
        CallFact.agent == agent,
        CallFact.acw_pending,
        CallFact.ended_at.between(wrap_started - WRAP_AFTER, wrap_started + WRAP_BEFORE),
    )
    await session.execute(
        pg_insert(FactPending)
        .from_select(["call_id", "due_at"], calls)
        .on_conflict_do_update(index_elements=["call_id"], set_={"due_at": text("now()")})
    )


async def store_surveys(session: AsyncSession, records: list[Survey]) -> None:
    for r in records:
        stmt = pg_insert(SurveyScore).values(**r.model_dump())
        await session.execute(
            stmt.on_conflict_do_update(
                index_elements=["call_id"], set_={"score": stmt.excluded.score, "agent": stmt.excluded.agent}
            )
        )
        due = pg_insert(FactPending).values(call_id=r.call_id, due_at=r.at)
        await session.execute(
            due.on_conflict_do_update(index_elements=["call_id"], set_={"due_at": due.excluded.due_at})
        )


class AgentStateRecorder:
    """Bus handlers: each event becomes an outbox record (the database may be away)."""

    def __init__(self, outbox: Outbox, clock: Callable[[], datetime]) -> None:
        self.outbox = outbox
        self.clock = clock
        outbox.register(STATE_KIND, StateChange, store_state_changes)
        outbox.register(SURVEY_KIND, Survey, store_surveys)

    async def on_agent_state_changed(self, e: AgentStateChanged) -> None:
        await self.outbox.put(
            STATE_KIND, StateChange(agent=e.agent, state=e.state, reason=e.pause_reason, since=e.since)
        )

    async def on_survey_answered(self, e: SurveyAnswered) -> None:
        await self.outbox.put(SURVEY_KIND, Survey(call_id=e.call_id, agent=e.agent, score=e.score, at=self.clock()))
