"""Grading over the real database, shipment history from a fake of the shipments service's volumes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select, text

from crm_bridge.errors import GradingBusy, NoShipmentHistory
from crm_bridge.events import CustomerRegraded
from crm_bridge.grading import Grader, GradingRules
from crm_bridge.models import Customer, GradeChange, GradingRun, Tier
from hotline.bus import EventBus
from hotline.db import Database
from tests.integration.shipments_fake import FakeVolumes


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 1, 2, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


async def _customers(db: Database, n: int, tier: str = "walk_in", credit: str = "good") -> None:
    async with db.session() as s:
        await s.execute(
            text(
                "INSERT INTO customers (name, phone, tier, credit) SELECT 'c' || g, '+86135' || lpad(g::text, 8, '0'), "
                f"'{tier}', '{credit}' FROM generate_series(1, {n}) g"
            )
        )
        await s.commit()


def _grader(
    db: Database, volumes: FakeVolumes | None, chunk: int = 1000
) -> tuple[Grader, Clock, list[CustomerRegraded]]:
    bus, clock = EventBus(), Clock()
    events: list[CustomerRegraded] = []
    bus.subscribe(CustomerRegraded, events.append)
    rules = GradingRules.load().model_copy(update={"chunk": chunk})
    return Grader(db, bus, rules, clock, volumes), clock, events


async def test_a_pass_grades_every_customer_in_chunks_and_records_the_changes(db: Database) -> None:
    await _customers(db, 2500)
    volumes = FakeVolumes({1: (2, 0), 2: (5, 0), 3: (12, 0), 4: (20, 0), 5: (45, 0), 6: (2, 900), 2500: (31, 0)})
    grader, clock, events = _grader(db, volumes, chunk=1000)
    run = await grader.grade_all("schedule")
    assert (run.customers, run.changed, run.by, run.error) == (2500, 6, "schedule", None)
    assert run.finished_at is not None
    assert [len(ids) for ids, _, _ in volumes.asked] == [1000, 1000, 500]
    since, until = volumes.asked[0][1:]
    assert until == clock.now and until - since == timedelta(days=30)
    async with db.session() as s:
        tiers = dict((await s.execute(select(Customer.id, Customer.tier).where(Customer.id <= 7))).all())
        history = (await s.execute(select(GradeChange).order_by(GradeChange.customer_id))).scalars().all()
    assert tiers == {1: Tier.walk_in, 2: Tier.regular, 3: Tier.mid, 4: Tier.vip, 5: Tier.key_account,
                     6: Tier.regular, 7: Tier.walk_in}  # fmt: skip
    assert [(h.customer_id, h.old_tier, h.new_tier, h.by, h.parcels) for h in history] == [
        (2, Tier.walk_in, Tier.regular, "schedule", 5),
        (3, Tier.walk_in, Tier.mid, "schedule", 12),
        (4, Tier.walk_in, Tier.vip, "schedule", 20),
        (5, Tier.walk_in, Tier.key_account, "schedule", 45),
        (6, Tier.walk_in, Tier.regular, "schedule", 2),
        (2500, Tier.walk_in, Tier.key_account, "schedule", 31),
    ]
    assert "revenue 900.00/month lifts to regular" in history[4].reason
    assert sorted((e.customer_id, e.new_tier) for e in events) == [
        (2, "regular"), (3, "mid"), (4, "vip"), (5, "key_account"), (6, "regular"), (2500, "key_account")
    ]  # fmt: skip
    again = await grader.grade_all("demo-supervisor")  # nothing moved since: nothing changes
    assert again.changed == 0 and len(events) == 6


async def test_a_supervisors_override_is_kept_by_grading_until_lifted(db: Database) -> None:
    await _customers(db, 3)
    volumes = FakeVolumes({1: (40, 0)})
    grader, _, events = _grader(db, volumes)
    outcome = await grader.override(1, Tier.mid, "agreed with sales", by="demo-supervisor")
    assert outcome.manual and outcome.tier == Tier.mid and events[-1].manual and events[-1].by == "demo-supervisor"
    run = await grader.grade_all("schedule")
    assert run.changed == 0
    kept = await grader.grade_one(1, by="demo-supervisor")
    assert kept.tier == Tier.mid and not kept.changed and kept.manual and "graded key_account" in kept.reason
    lifted = await grader.override(1, None, "sales agreement ended", by="demo-admin")
    assert lifted.tier == Tier.key_account and lifted.changed and not lifted.manual
    async with db.session() as s:
        history = (await s.execute(select(GradeChange).order_by(GradeChange.id))).scalars().all()
        assert (await s.get(Customer, 1)).tier_manual is False  # type: ignore[union-attr]
    assert [(h.old_tier, h.new_tier, h.by, h.manual) for h in history] == [
        (Tier.walk_in, Tier.mid, "demo-supervisor", True),
        (Tier.mid, Tier.key_account, "demo-admin", False),
    ]
    assert history[0].reason == "set by hand: agreed with sales"


async def test_bad_credit_caps_what_volume_earns(db: Database) -> None:
    await _customers(db, 1, credit="bad")
    grader, _, _ = _grader(db, FakeVolumes({1: (50, 100000)}))
    outcome = await grader.grade_one(1, by="demo-supervisor")
    assert outcome.tier == Tier.regular and "bad credit caps at regular" in outcome.reason


async def test_the_schedule_runs_a_pass_when_one_is_due_only(db: Database) -> None:
    await _customers(db, 10)
    volumes = FakeVolumes({3: (10, 0)})
    grader, clock, _ = _grader(db, volumes)
    await grader.scheduled()
    assert len(volumes.asked) == 1
    clock.now += timedelta(days=29)
    await grader.scheduled()
    assert len(volumes.asked) == 1  # the last scheduled pass is 29 days old: not due
    await grader.grade_all("demo-supervisor")  # a pass asked for does not move the schedule
    clock.now += timedelta(days=1)
    await grader.scheduled()
    async with db.session() as s:
        runs = (await s.execute(select(GradingRun.by).order_by(GradingRun.id))).scalars().all()
    assert runs == ["schedule", "demo-supervisor", "schedule"]


async def test_without_shipment_history_grading_says_so_and_changes_nothing(db: Database) -> None:
    await _customers(db, 2)
    grader, _, _ = _grader(db, None)
    with pytest.raises(NoShipmentHistory):
        await grader.grade_one(1, by="x")
    with pytest.raises(NoShipmentHistory):
        await grader.grade_all("x")
    await grader.scheduled()
    async with db.session() as s:
        assert await s.scalar(select(func.count()).select_from(GradingRun)) == 0


async def test_one_pass_at_a_time(db: Database) -> None:
    await _customers(db, 5)
    grader, _, _ = _grader(db, FakeVolumes())
    grader.start_all("demo-supervisor")
    with pytest.raises(GradingBusy):
        grader.start_all("demo-admin")
    await grader.wait()
    assert [r.customers for r in await grader.runs()] == [5]


async def test_an_override_made_while_a_pass_runs_is_not_overwritten(db: Database) -> None:
    await _customers(db, 2)
    grader: Grader

    class OverrideMeanwhile(FakeVolumes):
        async def __call__(self, customer_ids, since, until):  # type: ignore[no-untyped-def]
            answer = await super().__call__(customer_ids, since, until)
            if len(customer_ids) > 1:  # the pass, not the override's own grading
                await grader.override(1, Tier.regular, "set during the pass", by="demo-supervisor")
            return answer

    grader, _, events = _grader(db, OverrideMeanwhile({1: (40, 0), 2: (40, 0)}))
    run = await grader.grade_all("schedule")
    async with db.session() as s:
        tiers = dict((await s.execute(select(Customer.id, Customer.tier))).all())
        by = (await s.execute(select(GradeChange.customer_id, GradeChange.by).order_by(GradeChange.id))).all()
    assert tiers == {1: Tier.regular, 2: Tier.key_account} and run.changed == 1
    assert [tuple(r) for r in by] == [(1, "demo-supervisor"), (2, "schedule")]
    assert [(e.customer_id, e.by) for e in events] == [(1, "demo-supervisor"), (2, "schedule")]
