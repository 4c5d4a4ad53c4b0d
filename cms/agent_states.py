"""The CMS's own record of agents' states (acd's durable ``AgentStateRecord``, taken from the outbox in the same
transaction as the ACD's rows) and of survey scores (from ivr's ``SurveyAnswered``, kept through the outbox), so
each change lands exactly once.

A state change closes the agent's open span at the change's time and opens the next; the closed span's
15-minute intervals are marked for recounting, and a call whose wrap-up was still open when its facts were
derived is derived again.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import NamedTuple

from pydantic import BaseModel
from sqlalchemy import bindparam, func, select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from acd.events import AGENT_STATE_RECORD, AgentStateRecord
from cms.dirty import mark, span_keys
from cms.facts import WRAP_AFTER, WRAP_BEFORE
from cms.models import AgentStateSpan, CallFact, FactPending, SurveyScore
from hotline.db import table_of
from hotline.outbox import Outbox
from ivr.events import SurveyAnswered

STATE_KIND = "cms.agent_state"  # this package's own copy of each change, before it took acd's records
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


class Span(NamedTuple):
    """A state span closed by a batch of changes: its 15-minute intervals are recounted."""

    agent: str
    state: str
    started_at: datetime
    ended_at: datetime


# Every open span of the batch's agents that one of the batch's changes follows is closed at the first such
# change (as applying the changes one by one would); the closed spans come back for recounting.
_CLOSE_OPEN = text(
    "WITH k AS (SELECT * FROM unnest(CAST(:agents AS text[]), CAST(:sinces AS timestamptz[])) AS k(agent, since))"
    " UPDATE cms_agent_states s"
    " SET ended_at = (SELECT min(k.since) FROM k WHERE k.agent = s.agent AND k.since > s.started_at)"
    " WHERE s.ended_at IS NULL AND s.agent = ANY(CAST(:agents AS text[]))"
    " AND EXISTS (SELECT 1 FROM k WHERE k.agent = s.agent AND k.since > s.started_at)"
    " RETURNING s.agent, s.state, s.started_at, s.ended_at"
)
_spans = pg_insert(table_of(AgentStateSpan))
_OPEN_SPANS = _spans.on_conflict_do_update(  # delivered again: the span keeps the end it was given
    index_elements=["agent", "started_at"],
    set_={
        "state": _spans.excluded.state,
        "reason": _spans.excluded.reason,
        "ended_at": func.coalesce(table_of(AgentStateSpan).c.ended_at, _spans.excluded.ended_at),
    },
)


async def store_state_changes(session: AsyncSession, records: list[StateChange]) -> None:
    """The batch as if applied one change at a time in time order, in three statements: the open spans they
    follow closed, their own spans stored (each closed by the agent's next change in the batch), the closed
    spans' intervals marked."""
    changes = sorted(records, key=lambda r: r.since)
    closed = list(
        (
            await session.execute(
                _CLOSE_OPEN, {"agents": [r.agent for r in changes], "sinces": [r.since for r in changes]}
            )
        ).all()
    )
    by_agent: dict[str, list[StateChange]] = {}
    for r in changes:
        by_agent.setdefault(r.agent, []).append(r)
    rows: list[dict[str, object]] = []
    for own in by_agent.values():
        for i, r in enumerate(own):
            ended = next((n.since for n in own[i + 1 :] if n.since > r.since), None)  # the agent's next change
            rows.append(
                {"agent": r.agent, "state": r.state, "reason": r.reason, "started_at": r.since, "ended_at": ended}
            )
            if ended is not None:
                closed.append(Span(r.agent, r.state, r.since, ended))
    await session.execute(_OPEN_SPANS, rows)
    await mark(session, [k for span in closed for k in span_keys(span.agent, span.started_at, span.ended_at)])
    for span in closed:
        if span.state == "wrap_up":
            await _rederive_waiting_for_wrap_up(session, span.agent, span.started_at)


_WAITING_FOR_WRAP_UP = select(CallFact.call_id, text("now()")).where(
    CallFact.agent == bindparam("agent"),
    CallFact.acw_pending,
    CallFact.ended_at.between(bindparam("lo"), bindparam("hi")),
)
_REDERIVE = (
    pg_insert(table_of(FactPending))
    .from_select(["call_id", "due_at"], _WAITING_FOR_WRAP_UP)
    .on_conflict_do_update(index_elements=["call_id"], set_={"due_at": text("now()")})
)


async def _rederive_waiting_for_wrap_up(session: AsyncSession, agent: str, wrap_started: datetime) -> None:
    """The agent's calls that ended about when this wrap-up started wait for it: derive their facts again."""
    params = {"agent": agent, "lo": wrap_started - WRAP_AFTER, "hi": wrap_started + WRAP_BEFORE}
    await session.execute(_REDERIVE, params)


async def store_acd_states(session: AsyncSession, records: list[AgentStateRecord]) -> None:
    """acd's records of agents' states as spans (a record that only changed the agent's queues is no change)."""
    changes = [StateChange(agent=r.extension, state=r.state, reason=r.reason, since=r.at) for r in records if r.changed]
    if changes:
        await store_state_changes(session, changes)


_scores = pg_insert(table_of(SurveyScore))
_SCORES = _scores.on_conflict_do_update(
    index_elements=["call_id"], set_={"score": _scores.excluded.score, "agent": _scores.excluded.agent}
)
_due = pg_insert(table_of(FactPending))
_DUE = _due.on_conflict_do_update(index_elements=["call_id"], set_={"due_at": _due.excluded.due_at})


async def store_surveys(session: AsyncSession, records: list[Survey]) -> None:
    """Scores upserted; their calls' facts due again (one executemany each)."""
    await session.execute(_SCORES, [r.model_dump() for r in records])
    await session.execute(_DUE, [{"call_id": r.call_id, "due_at": r.at} for r in records])


class AgentStateRecorder:
    """Agents' states from acd's durable records; survey scores from the bus, each kept as an outbox record (the
    database may be away)."""

    def __init__(self, outbox: Outbox, clock: Callable[[], datetime]) -> None:
        self.outbox = outbox
        self.clock = clock
        outbox.subscribe(AGENT_STATE_RECORD, store_acd_states)
        outbox.register(STATE_KIND, StateChange, store_state_changes)  # what an earlier version left on disk
        outbox.register(SURVEY_KIND, Survey, store_surveys)

    async def on_survey_answered(self, e: SurveyAnswered) -> None:
        await self.outbox.put(SURVEY_KIND, Survey(call_id=e.call_id, agent=e.agent, score=e.score, at=self.clock()))
