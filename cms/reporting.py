"""Reports read from the 15-minute aggregates only (never the raw lines or the facts), so a month is a few
thousand rows per queue whatever the traffic.

Queue-side figures (calls, service level, ASA, AHT, …) come from ``cms_queue_intervals`` (``by`` interval,
day or queue) or ``cms_agent_intervals`` (``by`` agent); agents' state time (occupancy, utilisation) from
``cms_agent_state_intervals``, limited, when queues are chosen, to the agents who answered their calls in the
period (an agent's state is not per queue).
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import text

from cms.erlang import agents_needed
from cms.facts import INTERVAL, bucket_of
from cms.metrics import Totals, counted_offered, figures
from cms.report_config import ReportConfig
from hotline.db import Database

QUEUE_SUMS = (
    "sum(calls) AS calls, sum(offered) AS offered, sum(answered) AS answered, sum(abandoned) AS abandoned, "
    "sum(short_abandoned) AS short_abandoned, sum(timed_out) AS timed_out, sum(answered_in_sl) AS answered_in_sl, "
    "sum(abandoned_in_sl) AS abandoned_in_sl, sum(wait_sum) AS wait_sum, max(wait_max) AS wait_max, "
    "sum(abandon_wait_sum) AS abandon_wait_sum, sum(talk_sum) AS talk_sum, sum(hold_sum) AS hold_sum, "
    "sum(acw_sum) AS acw_sum, sum(ring_sum) AS ring_sum, sum(transfers) AS transfers, sum(ivr_known) AS ivr_known, "
    "sum(ivr_contained) AS ivr_contained, sum(fcr_eligible) AS fcr_eligible, sum(fcr_repeated) AS fcr_repeated, "
    "sum(csat_sum) AS csat_sum, sum(csat_count) AS csat_count"
)
AGENT_SUMS = (
    "sum(answered) AS answered, sum(answered_in_sl) AS answered_in_sl, sum(wait_sum) AS wait_sum, "
    "max(wait_max) AS wait_max, sum(talk_sum) AS talk_sum, sum(hold_sum) AS hold_sum, sum(acw_sum) AS acw_sum, "
    "sum(ring_sum) AS ring_sum, sum(transfers) AS transfers, sum(fcr_eligible) AS fcr_eligible, "
    "sum(fcr_repeated) AS fcr_repeated, sum(csat_sum) AS csat_sum, sum(csat_count) AS csat_count"
)
STATE_SUMS = (
    "sum(logged_in_seconds) AS logged_in_seconds, sum(available_seconds) AS available_seconds, "
    "sum(handling_seconds) AS handling_seconds, sum(paused_seconds) AS paused_seconds"
)
QUEUES = " AND queue = ANY(CAST(:queues AS text[]))"
# the agents whose state time counts when queues are chosen: those who answered their calls on the period's days
STATE_AGENTS = (
    " AND agent IN (SELECT DISTINCT agent FROM cms_agent_days WHERE day >= :first_day AND day <= :last_day"
    " AND queue = ANY(CAST(:queues AS text[])))"
)
# the interval rows of the period's partial days, and the daily rows of its whole days
EDGES = "bucket >= :since AND bucket < :until AND (bucket < :whole_from OR bucket >= :whole_until)"
WHOLE = "day >= :day_from AND day < :day_until"
INTERVALS = "bucket >= :since AND bucket < :until"
FLOOR_SQL = f"SELECT bucket AS key, {STATE_SUMS} FROM cms_floor_state_intervals WHERE {INTERVALS} GROUP BY 1"
TABLES = {
    "queue": ("cms_queue_intervals", "cms_queue_days", QUEUE_SUMS),
    "agent": ("cms_agent_intervals", "cms_agent_days", AGENT_SUMS),
    "state": ("cms_agent_state_intervals", "cms_agent_state_days", STATE_SUMS),
}


class GroupBy(enum.StrEnum):
    interval = "interval"
    day = "day"
    queue = "queue"
    agent = "agent"


@dataclass
class ReportRow:
    key: str
    totals: Totals


@dataclass
class Report:
    rows: list[ReportRow]
    total: Totals


def _keys(by: GroupBy | None, kind: str) -> tuple[str, str]:
    """The grouping expression over (interval rows, daily rows); None groups everything into one row."""
    if by is None:
        return "''", "''"
    if by is GroupBy.day:
        return "CAST(date(bucket AT TIME ZONE :tz) AS text)", "CAST(day AS text)"
    if by is GroupBy.queue and kind != "state":
        return "queue", "queue"
    return "agent", "agent"


def _label(value: Any) -> str:
    return value.isoformat() if isinstance(value, datetime) else str(value)


def whole_intervals(since: datetime, until: datetime) -> tuple[datetime, datetime]:
    """[since, until) widened to whole 15-minute intervals (a call counts in its interval as a whole)."""
    start, end = bucket_of(since), bucket_of(until)
    return start, end if end == until else end + INTERVAL


@dataclass(frozen=True)
class Period:
    """[since, until) cut into its whole local days and the partial days at its edges."""

    since: datetime
    until: datetime
    zone: ZoneInfo

    def params(self) -> dict[str, Any]:
        first = self.since.astimezone(self.zone).date()
        last = (self.until - timedelta(microseconds=1)).astimezone(self.zone).date()
        day_from = first if self._midnight(first) >= self.since else first + timedelta(days=1)
        day_until = last + timedelta(days=1) if self._midnight(last + timedelta(days=1)) <= self.until else last
        day_until = max(day_until, day_from)
        return {
            "since": self.since,
            "until": self.until,
            "day_from": day_from,
            "day_until": day_until,
            "whole_from": self._midnight(day_from),
            "whole_until": self._midnight(day_until),
            "first_day": first,
            "last_day": last,
        }

    def _midnight(self, day: date) -> datetime:
        return datetime.combine(day, time(0), self.zone)


def _sql(kind: str, by: GroupBy | None, filters: str) -> str:
    interval_table, day_table, sums = TABLES[kind]
    ikey, dkey = _keys(by, kind)
    if by is GroupBy.interval:
        return f"SELECT bucket AS key, {sums} FROM {interval_table} WHERE {INTERVALS}{filters} GROUP BY 1"
    return (
        f"SELECT key, {sums} FROM ("
        f"SELECT {ikey} AS key, * FROM {interval_table} WHERE {EDGES}{filters} "
        f"UNION ALL SELECT {dkey} AS key, * FROM {day_table} WHERE {WHOLE}{filters}"
        ") x GROUP BY 1"
    )


class Reports:
    def __init__(self, db: Database, config: ReportConfig) -> None:
        self.db = db
        self.config = config

    async def summary(self, since: datetime, until: datetime, queues: list[str] | None, by: GroupBy) -> Report:
        since, until = whole_intervals(since, until)
        params = {**Period(since, until, self.config.zone).params(), "queues": queues, "tz": self.config.timezone}
        qf = QUEUES if queues else ""
        sf = STATE_AGENTS if queues else ""
        calls_sql = _sql("agent" if by is GroupBy.agent else "queue", by, qf)
        async with self.db.session() as s:
            call_rows = (await s.execute(text(calls_sql), params)).mappings().all()
            if by is GroupBy.queue:
                state_rows: Sequence[Mapping[str, Any]] = []
            elif by is GroupBy.interval and not queues:  # every agent: the all-agents rows
                state_rows = (await s.execute(text(FLOOR_SQL), params)).mappings().all()
            else:
                state_rows = (await s.execute(text(_sql("state", by, sf)), params)).mappings().all()
            if by is GroupBy.interval:  # every row is in the report: add them up
                total = Totals()
                for r in [*call_rows, *state_rows]:
                    total.add(Totals.of(dict(r)))
            else:
                total = Totals()
                for kind, filters in (("queue", qf), ("state", sf)):
                    found = (await s.execute(text(_sql(kind, None, filters)), params)).mappings().first()
                    total.add(Totals.of(dict(found or {})))
        rows: dict[str, Totals] = {}
        for r in call_rows:
            rows[_label(r["key"])] = Totals.of(dict(r))
        for r in state_rows:
            rows.setdefault(_label(r["key"]), Totals()).add(Totals.of(dict(r)))
        return Report([ReportRow(k, rows[k]) for k in sorted(rows)], total)

    def figures(self, totals: Totals) -> dict[str, float | None]:
        return figures(totals, self.config.abandons_within_threshold)

    async def staffing(
        self,
        since: datetime,
        until: datetime,
        queues: list[str] | None,
        target: float,
        threshold: float,
        max_occupancy: float,
    ) -> tuple[list[dict[str, Any]], float | None]:
        """Erlang C per 15-minute interval: the measured counted offered calls and AHT (the period's AHT
        where an interval answered none) → agents needed. Returns the rows and the period's AHT."""
        report = await self.summary(since, until, queues, GroupBy.interval)
        period_aht = self.figures(report.total)["aht_seconds"]
        out: list[dict[str, Any]] = []
        for row in report.rows:
            calls = counted_offered(row.totals)
            if calls <= 0:
                continue
            aht = self.figures(row.totals)["aht_seconds"] or period_aht
            if not aht:
                continue
            need = agents_needed(calls, 900, aht, target, threshold, max_occupancy)
            out.append(
                {
                    "interval": row.key,
                    "calls": calls,
                    "aht_seconds": aht,
                    "traffic_erlangs": need.traffic,
                    "agents": need.agents,
                    "service_level": need.service_level,
                    "asa_seconds": need.asa,
                    "occupancy": need.occupancy,
                }
            )
        return out, period_aht
