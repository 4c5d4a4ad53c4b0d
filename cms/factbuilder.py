"""Deriving calls' facts from the stored rows, in batches, and marking what they change.

Which calls: those stored lately (``interactions.created_at``, after a grace that lets their queue_log lines
arrive) that have no facts yet or whose facts came from another source (a back-fill later replaced by the
live record), and those queued in ``cms_fact_pending`` (a survey arrived, a wrap-up ended). Each batch is one
transaction: inputs read, facts derived (cms.facts.derive), upserted, first-call resolution updated for the
customer's earlier calls, and the aggregate rows they count in marked dirty.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import BindParameter, bindparam, delete, func, select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from cms.dirty import call_keys, mark
from cms.facts import WRAP_AFTER, CallInputs, QueueEvent, Span, answering_agent, derive
from cms.models import AgentStateSpan, CallFact, CallLeg, FactPending, Interaction, QueueLogLine, SurveyScore
from cms.report_config import ReportConfig
from hotline.db import Database, table_of
from hotline.logs import get_logger

log = get_logger(__name__)

BATCH = 500
FACT_COLUMNS = [c.name for c in CallFact.__table__.columns if c.name not in ("repeated", "updated_at")]

# Built once: a statement object made per run is traversed again for its cache key on every execution; these
# are not (the key is memoised on the object). Core tables, not the ORM's entities: rows, not objects to track,
# and no bulk-ORM path rebuilding the statement at each run. The calls' ids are expanding parameters.
_IDS: BindParameter[Any] = bindparam("ids", expanding=True)
_calls, _lines, _legs = table_of(Interaction), table_of(QueueLogLine), table_of(CallLeg)
_scores, _state_spans, _facts_t = table_of(SurveyScore), table_of(AgentStateSpan), table_of(CallFact)
_CALLS = select(_calls).where(_calls.c.call_id.in_(_IDS))
_LINES = select(_lines).where(_lines.c.callid.in_(_IDS)).order_by(_lines.c.id)
_TRANSFERS = (
    select(_legs.c.call_id, func.count())
    .where(_legs.c.call_id.in_(_IDS), _legs.c.role == "transfer")
    .group_by(_legs.c.call_id)
)
_SCORES = select(_scores.c.call_id, _scores.c.score).where(_scores.c.call_id.in_(_IDS))
_SPANS = select(_state_spans).where(
    _state_spans.c.agent.in_(bindparam("agents", expanding=True)),
    _state_spans.c.started_at <= bindparam("hi"),
    (_state_spans.c.ended_at.is_(None)) | (_state_spans.c.ended_at >= bindparam("lo")),
    _state_spans.c.state.in_(["on_hold", "wrap_up"]),
)
_OLD_KEYS = select(_facts_t.c.bucket, _facts_t.c.queue, _facts_t.c.agent).where(_facts_t.c.call_id.in_(_IDS))
_facts = pg_insert(_facts_t)
_UPSERT_FACTS = _facts.on_conflict_do_update(
    index_elements=["call_id"],
    set_={**{c: _facts.excluded[c] for c in FACT_COLUMNS if c != "call_id"}, "updated_at": func.now()},
)
_FRESH = (
    select(_calls.c.call_id)
    .outerjoin(_facts_t, _facts_t.c.call_id == _calls.c.call_id)
    .where(
        _calls.c.created_at >= bindparam("since"),
        _calls.c.created_at < bindparam("until"),
        (_facts_t.c.call_id.is_(None)) | (_facts_t.c.source != _calls.c.source),
    )
    .order_by(_calls.c.created_at)
    .limit(bindparam("limit"))
)
_pending = table_of(FactPending)
_QUEUED = (
    delete(_pending)
    .where(
        _pending.c.call_id.in_(
            select(_pending.c.call_id)
            .where(_pending.c.due_at <= bindparam("now"))
            .order_by(_pending.c.due_at)
            .limit(bindparam("limit"))
            .with_for_update(skip_locked=True)
        )
    )
    .returning(_pending.c.call_id)
)

# a call's "repeated" flag: another call of the same customer within the window after it
REPEATS_SQL = text(
    """
WITH touched AS (
    SELECT DISTINCT f.call_id FROM cms_call_facts f
    JOIN cms_call_facts n ON n.contact_key = f.contact_key
    WHERE n.call_id = ANY(:ids) AND f.started_at >= n.started_at - CAST(:window AS interval)
      AND f.started_at <= n.started_at
), fresh AS (
    SELECT f.call_id, EXISTS (
        SELECT 1 FROM cms_call_facts g WHERE g.contact_key = f.contact_key
          AND g.started_at > f.started_at AND g.started_at <= f.started_at + CAST(:window AS interval)
    ) AS repeated
    FROM cms_call_facts f JOIN touched t ON t.call_id = f.call_id
)
UPDATE cms_call_facts f SET repeated = fresh.repeated FROM fresh
WHERE f.call_id = fresh.call_id AND f.repeated IS DISTINCT FROM fresh.repeated AND f.answered
RETURNING f.bucket, f.queue, f.agent
"""
)


async def load_inputs(s: AsyncSession, call_ids: Sequence[str]) -> list[CallInputs]:
    """Everything derive() needs about these calls (those with an interaction row)."""
    calls = list((await s.execute(_CALLS, {"ids": list(call_ids)})).all())
    if not calls:
        return []
    ids = {"ids": [c.call_id for c in calls]}
    lines: defaultdict[str, list[QueueEvent]] = defaultdict(list)
    for q in (await s.execute(_LINES, ids)).all():
        lines[q.callid or ""].append(QueueEvent(q.time, q.event, q.queue, q.agent, q.data1, q.data2, q.data3, q.data4))
    transfers: dict[str, int] = dict((await s.execute(_TRANSFERS, ids)).all())
    scores = dict((await s.execute(_SCORES, ids)).all())
    spans = await _spans(s, calls, lines)
    return [
        CallInputs(
            call_id=c.call_id,
            started_at=c.started_at,
            outcome=c.outcome,
            caller=c.caller,
            customer_id=c.customer_id,
            queue=c.queue,
            agent=c.agent,
            queued_at=c.queued_at,
            answered_at=c.answered_at,
            ended_at=c.ended_at,
            wait_seconds=c.wait_seconds,
            talk_seconds=c.talk_seconds,
            self_service=c.self_service,
            source=c.source,
            lines=lines.get(c.call_id, ()),
            transfer_legs=int(transfers.get(c.call_id, 0)),
            spans=spans.get(c.call_id, ()),
            csat=scores.get(c.call_id),
        )
        for c in calls
    ]


async def _spans(s: AsyncSession, calls: Sequence[Any], lines: dict[str, list[QueueEvent]]) -> dict[str, list[Span]]:
    """Each answered call's agent's state spans from its answer to a minute after its end."""
    windows: dict[str, tuple[str, datetime, datetime]] = {}
    for c in calls:
        connect = next((q for q in lines.get(c.call_id, ()) if q.event == "CONNECT"), None)
        answered = connect.time if connect else c.answered_at
        agent = answering_agent(c.agent, connect)
        if agent and answered:
            end = c.ended_at or answered + timedelta(hours=4)
            windows[c.call_id] = (agent, answered, end + WRAP_AFTER)
    if not windows:
        return {}
    agents = sorted({w[0] for w in windows.values()})
    lo = min(w[1] for w in windows.values())
    hi = max(w[2] for w in windows.values())
    rows = (await s.execute(_SPANS, {"agents": agents, "lo": lo, "hi": hi})).all()
    by_agent: defaultdict[str, list[Span]] = defaultdict(list)
    for r in rows:
        by_agent[r.agent].append(Span(r.state, r.started_at, r.ended_at))
    out: dict[str, list[Span]] = {}
    for call_id, (agent, start, end) in windows.items():
        out[call_id] = sorted(
            (sp for sp in by_agent[agent] if sp.started <= end and (sp.ended is None or sp.ended >= start)),
            key=lambda sp: sp.started,
        )
    return out


class FactBuilder:
    def __init__(
        self,
        db: Database,
        config: ReportConfig,
        *,
        grace: timedelta = timedelta(seconds=10),
        lookback: timedelta = timedelta(hours=1),
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        timeout: float = 30.0,
    ) -> None:
        self.db = db
        self.config = config
        self.grace = grace
        self.lookback = lookback
        self.clock = clock
        self.timeout = timeout
        self.facts_total = 0

    async def build(self, s: AsyncSession, call_ids: Sequence[str]) -> int:
        """Derive and store the facts of these calls in the session's transaction; returns how many."""
        inputs = await load_inputs(s, call_ids)
        if not inputs:
            return 0
        cfg = self.config
        facts = [derive(c, cfg.threshold(c.queue), cfg.short_abandon_seconds) for c in inputs]
        ids = [f.call_id for f in facts]
        keys: list[dict[str, object]] = []
        for old in (await s.execute(_OLD_KEYS, {"ids": ids})).all():
            keys += call_keys(old.bucket, old.queue, old.agent)
        # the fact's own fields: dataclasses.asdict deep-copies every value, ~1 ms of CPU per fact
        rows = [{k: getattr(f, k) for k in FACT_COLUMNS} for f in facts]
        await s.execute(_UPSERT_FACTS, rows)
        for f in facts:
            keys += call_keys(f.bucket, f.queue, f.agent)
        changed = await s.execute(REPEATS_SQL, {"ids": ids, "window": timedelta(days=cfg.fcr_days)})
        for r in changed.all():
            keys += call_keys(r.bucket, r.queue, r.agent)
        await mark(s, keys)
        return len(facts)

    async def build_now(self, call_ids: Sequence[str]) -> int:
        """Derive these calls' facts at once, in a transaction of their own."""
        async with asyncio.timeout(self.timeout), self.db.session() as s:
            n = await self.build(s, call_ids)
            await s.commit()
        return n

    async def due(self, s: AsyncSession, limit: int = BATCH) -> list[str]:
        """Calls whose facts are due: stored lately without facts (or from another source), or queued."""
        now = self.clock()
        window = {"since": now - self.lookback, "until": now - self.grace, "limit": limit}
        fresh = (await s.execute(_FRESH, window)).scalars()
        queued = (await s.execute(_QUEUED, {"now": now, "limit": limit})).scalars()
        return list(dict.fromkeys([*fresh, *queued]))

    async def run_once(self) -> int:
        """Derive every due call's facts, batch by batch; returns how many."""
        total = 0
        while True:
            async with asyncio.timeout(self.timeout), self.db.session() as s:
                ids = await self.due(s)
                n = await self.build(s, ids) if ids else 0
                await s.commit()
            total += n
            if len(ids) < BATCH:
                break
        if total:
            self.facts_total += total
            log.info("call facts derived", calls=total)
        return total

    async def rebuild(self, since: datetime, until: datetime) -> int:
        """Derive again the facts of every call that started in [since, until) (after a change of
        definitions or thresholds)."""
        total = 0
        last = ""
        while True:
            async with self.db.session() as s:
                ids = list(
                    (
                        await s.execute(
                            select(Interaction.call_id)
                            .where(
                                Interaction.started_at >= since,
                                Interaction.started_at < until,
                                Interaction.call_id > last,
                            )
                            .order_by(Interaction.call_id)
                            .limit(BATCH)
                        )
                    ).scalars()
                )
                if not ids:
                    return total
                total += await self.build(s, ids)
                await s.commit()
            last = ids[-1]
