"""Reports read from the 15-minute aggregates only (never the raw lines or the facts), so a month is a few
thousand rows per queue whatever the traffic.

Queue-side figures (calls, service level, ASA, AHT, …) come from ``cms_queue_intervals`` (``by`` interval,
day or queue) or ``cms_agent_intervals`` (``by`` agent); agents' state time (occupancy, utilisation) from
``cms_agent_state_intervals``, limited, when queues are chosen, to the agents who answered their calls in the
period (an agent's state is not per queue).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import text

from cms.erlang import agents_needed
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
IN_RANGE = "bucket >= :since AND bucket < :until"
QUEUES = " AND queue = ANY(CAST(:queues AS text[]))"
# the agents whose state time counts when queues are chosen
STATE_AGENTS = (
    " AND agent IN (SELECT DISTINCT agent FROM cms_agent_intervals WHERE bucket >= :since AND bucket < :until"
    " AND queue = ANY(CAST(:queues AS text[])))"
)


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


def _key(by: GroupBy) -> str:
    if by is GroupBy.interval:
        return "bucket"
    if by is GroupBy.day:
        return "CAST(date(bucket AT TIME ZONE :tz) AS text)"
    return by.value


def _label(value: Any) -> str:
    return value.isoformat() if isinstance(value, datetime) else str(value)


class Reports:
    def __init__(self, db: Database, config: ReportConfig) -> None:
        self.db = db
        self.config = config

    async def summary(self, since: datetime, until: datetime, queues: list[str] | None, by: GroupBy) -> Report:
        params: dict[str, Any] = {"since": since, "until": until, "queues": queues, "tz": self.config.timezone}
        qf = QUEUES if queues else ""
        sf = STATE_AGENTS if queues else ""
        key = _key(by)
        if by is GroupBy.agent:
            calls_sql = f"SELECT agent AS key, {AGENT_SUMS} FROM cms_agent_intervals WHERE {IN_RANGE}{qf} GROUP BY 1"
        else:
            calls_sql = f"SELECT {key} AS key, {QUEUE_SUMS} FROM cms_queue_intervals WHERE {IN_RANGE}{qf} GROUP BY 1"
        state_key = "agent" if by is GroupBy.agent else key
        state_sql = (
            f"SELECT {state_key} AS key, {STATE_SUMS} FROM cms_agent_state_intervals WHERE {IN_RANGE}{sf} GROUP BY 1"
        )
        total_calls = f"SELECT {QUEUE_SUMS} FROM cms_queue_intervals WHERE {IN_RANGE}{qf}"
        total_states = f"SELECT {STATE_SUMS} FROM cms_agent_state_intervals WHERE {IN_RANGE}{sf}"
        async with self.db.session() as s:
            call_rows = (await s.execute(text(calls_sql), params)).mappings().all()
            state_rows = [] if by is GroupBy.queue else (await s.execute(text(state_sql), params)).mappings().all()
            total = Totals.of(dict((await s.execute(text(total_calls), params)).mappings().one()))
            total.add(Totals.of(dict((await s.execute(text(total_states), params)).mappings().one())))
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
