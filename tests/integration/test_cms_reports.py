"""The reports over real PostgreSQL: facts derived from stored rows, 15-minute aggregates kept incrementally
and rebuildable, and every figure of the hand-computed day of tests/integration/cmsseed.py."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select, text

from cms.agent_states import StateChange, Survey, store_state_changes, store_surveys
from cms.aggregates import Aggregator
from cms.factbuilder import FactBuilder
from cms.models import CallFact
from cms.report_config import ReportConfig
from cms.reporting import GroupBy, Reports
from cms.reports_job import ReportsJob
from hotline.db import Database
from tests.integration.cmsseed import DAY, T0, at, seed_day

AGGREGATES = (
    "cms_queue_intervals",
    "cms_agent_intervals",
    "cms_agent_state_intervals",
    "cms_queue_days",
    "cms_agent_days",
    "cms_agent_state_days",
    "cms_floor_state_intervals",
)
TZ = ReportConfig.load().timezone


def job(db: Database) -> ReportsJob:
    """The reports' job with a clock past the facts' grace."""
    later = datetime.now(UTC) + timedelta(minutes=1)
    return ReportsJob(FactBuilder(db, ReportConfig.load(), clock=lambda: later), Aggregator(db, TZ))


async def snapshot(db: Database) -> dict[str, list[Any]]:
    async with db.session() as s:
        return {
            t: [tuple(r) for r in (await s.execute(text(f"SELECT * FROM {t} ORDER BY 1, 2, 3"))).all()]
            for t in AGGREGATES
        }


async def figures(db: Database, by: GroupBy = GroupBy.queue, queues: list[str] | None = None) -> tuple[dict, dict]:
    reports = Reports(db, ReportConfig.load())
    report = await reports.summary(*DAY, queues, by)
    return {r.key: reports.figures(r.totals) for r in report.rows}, reports.figures(report.total)


async def test_the_days_figures_agree_with_the_hand_computation(db: Database) -> None:
    await seed_day(db)
    facts, keys = await job(db).run_once()
    assert facts == 6 and keys > 0
    rows, total = await figures(db)
    assert total["calls"] == 6
    assert (total["offered"], total["answered"], total["abandoned"], total["short_abandoned"]) == (4, 3, 1, 1)
    assert total["service_level"] == pytest.approx(0.5)
    assert total["asa_seconds"] == pytest.approx(55 / 3)
    assert total["att_seconds"] == pytest.approx(70)
    assert total["acw_seconds"] == pytest.approx(10)
    assert total["aht_seconds"] == pytest.approx(260 / 3)
    assert total["abandon_rate"] == pytest.approx(0.25)
    assert total["fcr"] == pytest.approx(2 / 3)
    assert total["csat"] == pytest.approx(4)
    assert total["ivr_containment"] == pytest.approx(0.5)
    assert total["occupancy"] == pytest.approx(0.5)
    assert total["utilisation"] == pytest.approx(0.25)
    assert total["max_wait_seconds"] == 40
    assert set(rows) == {"", "support"}
    assert rows["support"]["offered"] == 4 and rows[""]["ivr_containment"] == 1.0


async def test_by_interval_day_and_agent(db: Database) -> None:
    await seed_day(db)
    await job(db).run_once()
    rows, _ = await figures(db, GroupBy.interval, ["support"])
    assert sorted(rows) == [T0.isoformat(), (T0 + timedelta(minutes=15)).isoformat()]
    first = rows[T0.isoformat()]
    assert (first["offered"], first["answered"], first["service_level"]) == (3, 2, pytest.approx(1 / 3))
    assert rows[(T0 + timedelta(minutes=15)).isoformat()]["asa_seconds"] == 5
    assert first["occupancy"] == pytest.approx(0.5)  # 1001 answered support calls: their state time counts
    every, total = await figures(db, GroupBy.interval)  # no queue chosen: the all-agents interval rows
    assert every[T0.isoformat()]["occupancy"] == pytest.approx(0.5)
    assert every[T0.isoformat()]["utilisation"] == pytest.approx(0.25)
    assert total["utilisation"] == pytest.approx(0.25) and total["offered"] == 4
    days, _ = await figures(db, GroupBy.day)
    assert list(days) == ["2026-11-24"]  # 09:00 in Shanghai
    agents, _ = await figures(db, GroupBy.agent)
    assert agents["1001"]["answered"] == 2
    assert agents["1001"]["aht_seconds"] == pytest.approx((100 + 20 + 30 + 50) / 2)
    assert agents["1001"]["utilisation"] == pytest.approx(0.25)
    assert agents["1002"]["csat"] == 3 and agents["1002"]["occupancy"] is None


async def test_a_queue_filter_leaves_other_queues_out(db: Database) -> None:
    await seed_day(db)
    await job(db).run_once()
    _, total = await figures(db, GroupBy.queue, ["billing"])
    assert total["calls"] == 0 and total["service_level"] is None


async def test_late_facts_update_only_their_rows_and_match_a_rebuild(db: Database) -> None:
    await seed_day(db)
    j = job(db)
    await j.run_once()
    # c2's agent went into a wrap-up that was still open when its facts were derived, then a survey came
    async with db.session() as s:
        await store_state_changes(s, [StateChange(agent="1002", state="wrap_up", since=at(400))])
        await s.commit()
    assert (await j.builder.build_now(["k2"])) == 1
    async with db.session() as s:
        assert (await s.execute(select(CallFact.acw_pending).where(CallFact.call_id == "k2"))).scalar_one()
    async with db.session() as s:
        await store_state_changes(s, [StateChange(agent="1002", state="available", since=at(425))])
        await store_surveys(s, [Survey(call_id="k5", agent="1001", score=1, at=datetime.now(UTC))])
        await s.commit()
    facts, keys = await j.run_once()
    assert facts == 2  # k2 (wrap-up closed) and k5 (surveyed)
    assert keys == 5  # queue 01:00 and 01:15, agents 1002 at 01:00 and 1001 at 01:15, 1002's state at 01:00
    _, total = await figures(db)
    assert total["acw_seconds"] == pytest.approx((30 + 25) / 3)
    assert total["csat"] == pytest.approx(3)
    incremental = await snapshot(db)
    await Aggregator(db, TZ).rebuild(*DAY)
    assert await snapshot(db) == incremental
    await Aggregator(db, TZ).rebuild(*DAY)  # idempotent
    assert await snapshot(db) == incremental


async def test_a_repeat_contact_flags_the_earlier_call_whatever_the_order(db: Database) -> None:
    await seed_day(db)
    b = job(db).builder
    await b.build_now(["k5"])
    await b.build_now(["k1"])  # the earlier call arrives second
    async with db.session() as s:
        flags = dict((await s.execute(select(CallFact.call_id, CallFact.repeated))).all())
    assert flags == {"k1": True, "k5": False}


async def test_facts_wait_for_their_grace_unless_queued(db: Database) -> None:
    await seed_day(db)
    early = ReportsJob(FactBuilder(db, ReportConfig.load()), Aggregator(db, TZ))  # rows were stored just now
    facts, _ = await early.run_once()
    async with db.session() as s:
        derived = set((await s.execute(select(CallFact.call_id))).scalars())
    assert facts == 2 and derived == {"k1", "k2"}  # the surveyed calls were queued for their facts


async def test_any_cut_of_the_period_adds_up_to_the_whole(db: Database) -> None:
    """Partial days come from interval rows, whole days from daily rows: a period cut anywhere counts each call
    once (09:00–09:15 Shanghai holds k1–k4, 09:15–09:30 holds k5)."""
    await seed_day(db)
    await job(db).run_once()
    reports = Reports(db, ReportConfig.load())
    for since, until, offered in (
        (T0, T0 + timedelta(minutes=15), 3),
        (T0 + timedelta(minutes=15), T0 + timedelta(hours=2), 1),
        (T0 - timedelta(days=3), T0 + timedelta(days=3), 4),
        (T0 - timedelta(days=3), T0 + timedelta(minutes=15), 3),
    ):
        for by in GroupBy:
            report = await reports.summary(since, until, ["support"], by)
            assert reports.figures(report.total)["offered"] == offered, (since, until, by)
            if by is not GroupBy.agent:
                assert sum(reports.figures(r.totals)["offered"] for r in report.rows) == offered, (since, until, by)


async def test_a_period_counts_whole_intervals(db: Database) -> None:
    """A call counts in the interval it queued in: a period starting mid-interval still holds that interval."""
    await seed_day(db)
    await job(db).run_once()
    reports = Reports(db, ReportConfig.load())
    report = await reports.summary(T0 + timedelta(minutes=7), T0 + timedelta(minutes=16), ["support"], GroupBy.queue)
    assert reports.figures(report.total)["offered"] == 4  # 01:00–01:15 and 01:15–01:30


async def test_a_batch_of_state_changes_stores_what_one_at_a_time_would(db: Database) -> None:
    """The outbox hands the sink many changes at once, out of order and some twice: the spans, their ends and
    the intervals marked for recounting are those of applying them one by one in time order."""
    t = T0 + timedelta(hours=3)
    changes = [
        StateChange(agent=agent, state=state, reason=None, since=t + timedelta(seconds=s))
        for agent, state, s in [
            ("1001", "available", 0),
            ("1002", "available", 5),
            ("1001", "ringing", 100),
            ("1001", "on_call", 104),
            ("1002", "paused", 950),  # crosses a 15-minute boundary
            ("1001", "wrap_up", 400),
            ("1001", "available", 430),
        ]
    ]

    async def spans_and_marks() -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
        async with db.session() as s:
            spans = (
                await s.execute(
                    text("SELECT agent, state, started_at, ended_at FROM cms_agent_states ORDER BY agent, started_at")
                )
            ).all()
            marks = (
                await s.execute(text("SELECT kind, bucket, queue, agent FROM cms_dirty ORDER BY 1, 2, 3, 4"))
            ).all()
            await s.execute(text("TRUNCATE cms_agent_states, cms_dirty"))
            await s.commit()
        return [tuple(r) for r in spans], [tuple(r) for r in marks]

    for change in sorted(changes, key=lambda c: c.since):
        async with db.session() as s:
            await store_state_changes(s, [change])
            await s.commit()
    one_by_one = await spans_and_marks()
    async with db.session() as s:  # the first two alone, then all of them shuffled and with duplicates
        await store_state_changes(s, changes[:2])
        await s.commit()
    async with db.session() as s:
        await store_state_changes(s, list(reversed(changes)) + changes[2:4])
        await s.commit()
    async with db.session() as s:  # a closed span's change delivered once more, alone: it stays closed
        await store_state_changes(s, [changes[2]])
        await s.commit()
    batched = await spans_and_marks()
    assert batched == one_by_one
    spans, marks = one_by_one
    assert [s[3] is None for s in spans] == [False, False, False, False, True, False, True]
    assert len(marks) >= 3
