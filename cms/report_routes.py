"""The reports over HTTP: summary figures (JSON or CSV) and the Erlang C staffing calculator. A period counts
in whole 15-minute intervals: ``since`` is rounded down and ``until`` up to an interval's start (the answer
says which period it covers).

Supervisors see their own queues' figures (asking for another queue is refused; asking for none means all of
theirs); admins see every queue."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response
from pydantic import StringConstraints

from cms.errors import BadPeriod, QueueNotSupervised
from cms.report_schemas import Figures, Staffing, StaffingRow, Summary, SummaryRow
from cms.reporting import GroupBy, Reports, whole_intervals
from hotline.auth import Access, Principal, Role

MAX_PERIOD = timedelta(days=400)
MAX_STAFFING_PERIOD = timedelta(days=31)
MAX_QUEUES = 50
Queue = Annotated[str, StringConstraints(max_length=80, pattern=r"^[\w-]+$")]
QueueName = Query(None, description="a queue (repeatable); none: every queue you may see")


def _period(since: datetime, until: datetime, longest: timedelta) -> None:
    if since.tzinfo is None or until.tzinfo is None:
        raise BadPeriod("since and until need a time zone (e.g. 2026-11-24T00:00:00+08:00)")
    if until <= since:
        raise BadPeriod("until must be after since")
    if until - since > longest:
        raise BadPeriod(f"a period of at most {longest.days} days")


def _queues(me: Principal, asked: list[str] | None) -> list[str] | None:
    """The queues a report covers: what was asked within what the principal supervises (None: every queue)."""
    if asked and len(asked) > MAX_QUEUES:
        raise BadPeriod(f"at most {MAX_QUEUES} queues")
    if me.is_admin:
        return sorted(set(asked)) if asked else None
    mine = set(me.supervised_queues)
    if asked:
        foreign = sorted(set(asked) - mine)
        if foreign:
            raise QueueNotSupervised(f"not a queue you supervise: {', '.join(foreign)}")
        return sorted(set(asked))
    return sorted(mine)


def _csv(summary: Summary) -> str:
    out = io.StringIO()
    names = ["key", *Figures.model_fields]
    writer = csv.writer(out)
    writer.writerow(names)
    for row in [*summary.rows, SummaryRow(key="total", **summary.total.model_dump())]:
        data = row.model_dump()
        writer.writerow(["" if data[n] is None else data[n] for n in names])
    return out.getvalue()


def build_report_router(reports: Reports, access: Access) -> APIRouter:
    router = APIRouter(prefix="/api/reports", tags=["reports"])
    supervisor = Depends(access.requires(Role.supervisor))

    @router.get(
        "/summary",
        response_model=Summary,
        summary="Service level, ASA, AHT, abandons, FCR, occupancy, CSAT… by interval, day, queue or agent",
        responses={200: {"content": {"text/csv": {}}}},
    )
    async def summary(
        since: datetime,
        until: datetime,
        queue: list[Queue] | None = QueueName,
        by: GroupBy = GroupBy.interval,
        format: Literal["json", "csv"] = "json",
        me: Principal = supervisor,
    ) -> Summary | Response:
        _period(since, until, MAX_PERIOD)
        since, until = whole_intervals(since, until)
        queues = _queues(me, queue)
        report = await reports.summary(since, until, queues, by)
        result = Summary(
            since=since.isoformat(),
            until=until.isoformat(),
            by=by.value,
            queues=queues,
            timezone=reports.config.timezone,
            rows=[SummaryRow.model_validate({"key": r.key, **reports.figures(r.totals)}) for r in report.rows],
            total=Figures.model_validate(reports.figures(report.total)),
        )
        if format == "csv":
            name = f"report-{by.value}-{since.date()}-{until.date()}.csv"
            return Response(
                _csv(result), media_type="text/csv", headers={"Content-Disposition": f'attachment; filename="{name}"'}
            )
        return result

    @router.get(
        "/staffing",
        response_model=Staffing,
        summary="Erlang C: agents needed per 15-minute interval for a service level, from measured volumes and AHT",
    )
    async def staffing(
        since: datetime,
        until: datetime,
        queue: list[Queue] | None = QueueName,
        target_sl: float = Query(0.8, gt=0, lt=1),
        threshold_s: float = Query(20, gt=0, le=3600),
        max_occupancy: float = Query(0.85, gt=0, le=1),
        me: Principal = supervisor,
    ) -> Staffing:
        _period(since, until, MAX_STAFFING_PERIOD)
        since, until = whole_intervals(since, until)
        queues = _queues(me, queue)
        rows, aht = await reports.staffing(since, until, queues, target_sl, threshold_s, max_occupancy)
        return Staffing(
            since=since.isoformat(),
            until=until.isoformat(),
            queues=queues,
            target_sl=target_sl,
            threshold_s=threshold_s,
            max_occupancy=max_occupancy,
            aht_seconds=aht,
            peak_agents=max((r["agents"] for r in rows), default=0),
            rows=[StaffingRow(**r) for r in rows],
        )

    return router
