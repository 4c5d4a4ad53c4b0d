"""The 15-minute aggregates, recounted from the facts: by queue, by agent (and queue), agents' state time; and
the same per local day, recounted from the interval rows (a month's report reads those).

Every aggregate row is a pure function of the facts in its key (interval, queue / agent), so recounting it
is idempotent: ``flush`` recounts the rows marked dirty when facts or state spans changed (the incremental
path, a few rows per call), ``rebuild`` recounts every row of a period (after a change of definitions, a
restore, or to check). Both take one transaction-scoped advisory lock so they never interleave.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from datetime import datetime, timedelta
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import TextClause, text
from sqlalchemy.ext.asyncio import AsyncSession

from cms.dirty import AGENT, QUEUE, STATE
from cms.facts import INTERVAL as _INTERVAL
from hotline.db import Database
from hotline.logs import get_logger

log = get_logger(__name__)
_TICK = timedelta(microseconds=1)

LOCK = 0x434D5301  # "CMS" + 1: the aggregates' advisory lock

CALL_SUMS = """
    count(*) FILTER (WHERE f.answered) AS answered,
    count(*) FILTER (WHERE f.answered AND f.in_sl) AS answered_in_sl,
    coalesce(sum(f.wait_s) FILTER (WHERE f.answered), 0) AS wait_sum,
    coalesce(max(f.wait_s) FILTER (WHERE f.answered), 0) AS wait_max,
    coalesce(sum(f.talk_s) FILTER (WHERE f.answered), 0) AS talk_sum,
    coalesce(sum(f.hold_s) FILTER (WHERE f.answered), 0) AS hold_sum,
    coalesce(sum(f.acw_s) FILTER (WHERE f.answered), 0) AS acw_sum,
    coalesce(sum(f.ring_s) FILTER (WHERE f.answered), 0) AS ring_sum,
    coalesce(sum(f.transfers), 0) AS transfers,
    count(*) FILTER (WHERE f.answered AND f.contact_key IS NOT NULL) AS fcr_eligible,
    count(*) FILTER (WHERE f.answered AND f.contact_key IS NOT NULL AND f.repeated) AS fcr_repeated,
    coalesce(sum(f.csat), 0) AS csat_sum,
    count(f.csat) AS csat_count"""

QUEUE_SELECT = f"""
SELECT f.bucket, f.queue,
    count(*) AS calls,
    count(*) FILTER (WHERE f.offered) AS offered,
    count(*) FILTER (WHERE f.abandoned) AS abandoned,
    count(*) FILTER (WHERE f.short_abandon) AS short_abandoned,
    count(*) FILTER (WHERE f.timed_out) AS timed_out,
    count(*) FILTER (WHERE f.abandoned AND f.in_sl) AS abandoned_in_sl,
    coalesce(sum(f.wait_s) FILTER (WHERE f.abandoned AND NOT f.short_abandon), 0) AS abandon_wait_sum,
    count(*) FILTER (WHERE f.ivr_known) AS ivr_known,
    count(*) FILTER (WHERE f.ivr_contained) AS ivr_contained,
    {CALL_SUMS}
FROM cms_call_facts f {{join}} WHERE {{where}}
GROUP BY f.bucket, f.queue"""
QUEUE_COLUMNS = (
    "bucket, queue, calls, offered, abandoned, short_abandoned, timed_out, abandoned_in_sl, abandon_wait_sum, "
    "ivr_known, ivr_contained, answered, answered_in_sl, wait_sum, wait_max, talk_sum, hold_sum, acw_sum, "
    "ring_sum, transfers, fcr_eligible, fcr_repeated, csat_sum, csat_count"
)

AGENT_SELECT = f"""
SELECT f.bucket, f.agent, f.queue, {CALL_SUMS}
FROM cms_call_facts f {{join}} WHERE f.agent <> '' AND f.answered AND {{where}}
GROUP BY f.bucket, f.agent, f.queue"""
AGENT_COLUMNS = (
    "bucket, agent, queue, answered, answered_in_sl, wait_sum, wait_max, talk_sum, hold_sum, acw_sum, ring_sum, "
    "transfers, fcr_eligible, fcr_repeated, csat_sum, csat_count"
)

# a closed state span cut at the 15-minute boundaries it crosses
STATE_SELECT = """
SELECT b.bucket, s.agent,
    coalesce(sum(x.seconds) FILTER (WHERE s.state <> 'logged_out'), 0) AS logged_in_seconds,
    coalesce(sum(x.seconds) FILTER (WHERE s.state = 'available'), 0) AS available_seconds,
    coalesce(sum(x.seconds) FILTER (WHERE s.state IN ('ringing', 'on_call', 'on_hold', 'wrap_up')), 0)
        AS handling_seconds,
    coalesce(sum(x.seconds) FILTER (WHERE s.state = 'paused'), 0) AS paused_seconds,
    coalesce(sum(x.seconds) FILTER (WHERE s.state = 'wrap_up'), 0) AS wrap_seconds
FROM cms_agent_states s
CROSS JOIN LATERAL generate_series(
    date_bin('15 minutes', s.started_at, TIMESTAMPTZ '2000-01-01 00:00:00+00'),
    s.ended_at - interval '1 microsecond', interval '15 minutes') AS b(bucket)
CROSS JOIN LATERAL (SELECT extract(epoch FROM
    least(s.ended_at, b.bucket + interval '15 minutes') - greatest(s.started_at, b.bucket)) AS seconds) x
{join}
WHERE s.ended_at IS NOT NULL AND s.ended_at > s.started_at AND {where}
GROUP BY b.bucket, s.agent"""
STATE_COLUMNS = "bucket, agent, logged_in_seconds, available_seconds, handling_seconds, paused_seconds, wrap_seconds"

KEYS = {
    QUEUE: ("cms_queue_intervals", QUEUE_SELECT, QUEUE_COLUMNS, ("bucket", "queue")),
    AGENT: ("cms_agent_intervals", AGENT_SELECT, AGENT_COLUMNS, ("bucket", "agent", "queue")),
    STATE: ("cms_agent_state_intervals", STATE_SELECT, STATE_COLUMNS, ("bucket", "agent")),
}
TYPES = {"bucket": "timestamptz[]", "day": "date[]", "queue": "text[]", "agent": "text[]"}
DAYS = {QUEUE: "cms_queue_days", AGENT: "cms_agent_days", STATE: "cms_agent_state_days"}
MAXED = {"wait_max"}


@cache  # the statements of the incremental path are built once: each run reuses them (and their cache keys)
def _day_sql(kind: str) -> tuple[TextClause, TextClause]:
    """(delete, insert) recounting the daily rows of the keys ``:day`` + the kind's other key columns."""
    interval_table, _, columns, key_columns = KEYS[kind]
    keys = ("day", *key_columns[1:])
    values = [c for c in columns.split(", ") if c not in key_columns]
    match = " AND ".join(f"a.{c} = k.{c}" for c in keys)
    delete = f"DELETE FROM {DAYS[kind]} a USING {_unnest(keys)} WHERE {match}"
    others = ", ".join(f"a.{c}" for c in key_columns[1:])
    sums = ", ".join(f"{'max' if c in MAXED else 'sum'}(a.{c})" for c in values)
    on = " AND ".join(f"a.{c} = k.{c}" for c in key_columns[1:])
    insert = (
        f"INSERT INTO {DAYS[kind]} (day, {', '.join(key_columns[1:])}, {', '.join(values)}) "
        f"SELECT k.day, {others}, {sums} FROM {interval_table} a JOIN {_unnest(keys)} ON {on} "
        "AND a.bucket >= CAST(k.day AS timestamp) AT TIME ZONE :tz "
        "AND a.bucket < CAST(k.day + 1 AS timestamp) AT TIME ZONE :tz "
        f"GROUP BY k.day, {others}"
    )
    return text(delete), text(insert)


async def recount_days(s: AsyncSession, kind: str, keys: list[tuple[object, ...]], tz: str) -> None:
    """Recount the daily rows of these keys (the local day first, then the kind's other key columns) from the
    interval rows."""
    if not keys:
        return
    _, _, _, key_columns = KEYS[kind]
    names = ("day", *key_columns[1:])
    params: dict[str, Any] = {c: [k[i] for k in keys] for i, c in enumerate(names)}
    delete, insert = _day_sql(kind)
    await s.execute(delete, params)
    await s.execute(insert, {**params, "tz": tz})


def day_keys(keys: list[tuple[Any, ...]], zone: ZoneInfo) -> list[tuple[Any, ...]]:
    """The daily keys of interval keys (bucket → its local day)."""
    return list({(k[0].astimezone(zone).date(), *k[1:]) for k in keys})


def _unnest(columns: tuple[str, ...]) -> str:
    args = ", ".join(f"CAST(:{c} AS {TYPES[c]})" for c in columns)
    return f"unnest({args}) AS k({', '.join(columns)})"


@cache
def _key_sql(kind: str) -> tuple[TextClause, TextClause]:
    """(delete, insert) recounting the aggregate rows of the keys given as arrays, one per key column."""
    table, select_sql, columns, key_columns = KEYS[kind]
    match = " AND ".join(f"a.{c} = k.{c}" for c in key_columns)
    delete = f"DELETE FROM {table} a USING {_unnest(key_columns)} WHERE {match}"
    if kind == STATE:
        join = f"JOIN {_unnest(key_columns)} ON k.bucket = b.bucket AND k.agent = s.agent"
        where = "s.agent = ANY(CAST(:agent AS text[])) AND s.ended_at > :lo AND s.started_at < :hi"
    else:
        on = " AND ".join(f"k.{c} = f.{c}" for c in key_columns)
        join, where = f"JOIN {_unnest(key_columns)} ON {on}", "true"
    return text(delete), text(f"INSERT INTO {table} ({columns}) {select_sql.format(join=join, where=where)}")


async def recount_keys(s: AsyncSession, kind: str, keys: list[tuple[object, ...]]) -> None:
    """Recount the aggregate rows of these keys (in the session's transaction)."""
    key_columns = KEYS[kind][3]
    params: dict[str, Any] = {c: [k[i] for k in keys] for i, c in enumerate(key_columns)}
    delete, insert = _key_sql(kind)
    await s.execute(delete, params)
    if kind == STATE:
        params = {**params, "lo": min(params["bucket"]), "hi": max(params["bucket"]) + _INTERVAL}
    await s.execute(insert, params)


async def recount_range(s: AsyncSession, since: datetime, until: datetime) -> None:
    """Recount every aggregate row of the intervals in [since, until)."""
    for kind, (table, select_sql, columns, _) in KEYS.items():
        await s.execute(text(f"DELETE FROM {table} WHERE bucket >= :since AND bucket < :until"), _range(since, until))
        bucket = "b.bucket" if kind == STATE else "f.bucket"
        where = f"{bucket} >= :since AND {bucket} < :until"
        if kind == STATE:
            where += " AND s.ended_at > :since AND s.started_at < :until"
        sql = select_sql.format(join="", where=where)
        await s.execute(text(f"INSERT INTO {table} ({columns}) {sql}"), _range(since, until))
    await s.execute(text("DELETE FROM cms_dirty WHERE bucket >= :since AND bucket < :until"), _range(since, until))
    await s.execute(
        text("DELETE FROM cms_floor_state_intervals WHERE bucket >= :since AND bucket < :until"), _range(since, until)
    )
    await s.execute(text(FLOOR_SQL.format(where="bucket >= :since AND bucket < :until")), _range(since, until))


FLOOR_VALUES = "logged_in_seconds, available_seconds, handling_seconds, paused_seconds, wrap_seconds"
FLOOR_SQL = (
    f"INSERT INTO cms_floor_state_intervals (bucket, {FLOOR_VALUES}) "
    "SELECT bucket, sum(logged_in_seconds), sum(available_seconds), sum(handling_seconds), sum(paused_seconds), "
    "sum(wrap_seconds) FROM cms_agent_state_intervals WHERE {where} GROUP BY bucket"
)


_FLOOR_DELETE = text("DELETE FROM cms_floor_state_intervals WHERE bucket = ANY(:buckets)")
_FLOOR_INSERT = text(FLOOR_SQL.format(where="bucket = ANY(:buckets)"))
_LOCK = text("SELECT pg_advisory_xact_lock(:lock)")
_TAKE_DIRTY = text("DELETE FROM cms_dirty RETURNING kind, bucket, queue, agent")


async def recount_floor(s: AsyncSession, buckets: list[Any]) -> None:
    """Recount every agent's state time of these intervals."""
    if buckets:
        params = {"buckets": buckets}
        await s.execute(_FLOOR_DELETE, params)
        await s.execute(_FLOOR_INSERT, params)


async def recount_days_between(s: AsyncSession, since: datetime, until: datetime, tz: str) -> None:
    """Recount every daily row of the local days that [since, until) touches."""
    zone = ZoneInfo(tz)
    first, last = since.astimezone(zone).date(), (until - _TICK).astimezone(zone).date()
    days = {"first": first, "last": last}
    for kind, table in DAYS.items():
        await s.execute(text(f"DELETE FROM {table} WHERE day >= :first AND day <= :last"), days)
        interval_table, _, columns, key_columns = KEYS[kind]
        values = [c for c in columns.split(", ") if c not in key_columns]
        others = ", ".join(key_columns[1:])
        sums = ", ".join(f"{'max' if c in MAXED else 'sum'}({c})" for c in values)
        await s.execute(
            text(
                f"INSERT INTO {table} (day, {others}, {', '.join(values)}) "
                f"SELECT date(bucket AT TIME ZONE :tz), {others}, {sums} FROM {interval_table} "
                "WHERE bucket >= CAST(CAST(:first AS date) AS timestamp) AT TIME ZONE :tz "
                "AND bucket < CAST(CAST(:last AS date) + 1 AS timestamp) AT TIME ZONE :tz "
                f"GROUP BY 1, {others}"
            ),
            {**days, "tz": tz},
        )


def _range(since: datetime, until: datetime) -> dict[str, datetime]:
    return {"since": since, "until": until}


class Aggregator:
    def __init__(self, db: Database, tz: str = "UTC", *, timeout: float = 30.0) -> None:
        self.db = db
        self.tz = tz
        self.zone = ZoneInfo(tz)
        self.timeout = timeout
        self.rows_total = 0

    async def flush(self) -> int:
        """Recount the rows marked dirty; returns how many keys."""
        async with asyncio.timeout(self.timeout), self.db.session() as s:
            await s.execute(_LOCK, {"lock": LOCK})
            dirty = (await s.execute(_TAKE_DIRTY)).all()
            by_kind: defaultdict[str, list[tuple[object, ...]]] = defaultdict(list)
            for d in dirty:
                if d.kind == QUEUE:
                    by_kind[QUEUE].append((d.bucket, d.queue))
                elif d.kind == AGENT:
                    by_kind[AGENT].append((d.bucket, d.agent, d.queue))
                else:
                    by_kind[STATE].append((d.bucket, d.agent))
            for kind, keys in by_kind.items():
                await recount_keys(s, kind, keys)
                await recount_days(s, kind, day_keys(keys, self.zone), self.tz)
            await recount_floor(s, sorted({k[0] for k in by_kind.get(STATE, [])}))  # type: ignore[type-var]
            await s.commit()
        self.rows_total += len(dirty)
        return len(dirty)

    async def rebuild(self, since: datetime, until: datetime) -> None:
        """Recount every aggregate of [since, until) from the facts (idempotent)."""
        async with self.db.session() as s:
            await s.execute(_LOCK, {"lock": LOCK})
            await recount_range(s, since, until)
            await recount_days_between(s, since, until, self.tz)
            await s.commit()
        log.info("aggregates rebuilt", since=since.isoformat(), until=until.isoformat())
