"""Work orders on the real database, with a clock the test moves: opening, routing by tier, the life cycle and
its history, the SLA clock standing still while the customer is waited for, escalations (once per reason),
first-contact resolution, revisits, the queue's filters, and tickets moved by the migration."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest
from sqlalchemy import select

from crm_bridge.service import CustomerDirectory
from hotline.bus import EventBus
from hotline.db import Database
from hotline.demo import load_demo_data
from hotline.events import Event
from hotline.migrate import downgrade, upgrade
from tests.integration.waiting import until
from workorders.errors import InvalidTransition, InvalidWorkOrder, NotYourWorkOrder, RevisitNotAllowed
from workorders.events import RevisitScheduled, WorkOrderChanged, WorkOrderEscalated, WorkOrderOpened
from workorders.models import WorkOrder
from workorders.policy import Policy
from workorders.schemas import CallLink, NewWorkOrder, WorkOrderUpdate
from workorders.services.desk import Actor, WorkOrderService
from workorders.services.escalation import Escalator
from workorders.services.search import Filters, search
from workorders.states import SlaState, Status

T0 = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)
H = timedelta(hours=1)
AGENT, OTHER, SUPERVISOR = Actor("1001", False), Actor("1002", False), Actor("demo-supervisor", True)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now

    def advance(self, by: timedelta) -> None:
        self.now += by


class Parts:
    def __init__(self, db: Database) -> None:
        self.db = db
        self.clock = Clock()
        self.bus = EventBus()
        self.events: list[Event] = []
        for t in (WorkOrderOpened, WorkOrderChanged, WorkOrderEscalated, RevisitScheduled):
            self.bus.subscribe(t, self.events.append)
        self.policy = Policy.load()
        directory = CustomerDirectory(db)
        self.desk = WorkOrderService(db, self.bus, self.policy, lambda: directory, self.clock)
        self.escalator = Escalator(db, self.bus, self.policy, self.clock, batch=2)

    async def customer(self, phone: str) -> int:
        card = await CustomerDirectory(self.db).card_by_phone(phone)
        assert card is not None
        return card.id

    def of(self, kind: type[Event]) -> list[Any]:
        return [e for e in self.events if isinstance(e, kind)]


@pytest.fixture
async def parts(db: Database) -> Parts:
    await load_demo_data(db)
    async with db.session() as s:  # the demo's orders are timed against the real now: start from none
        await s.execute(WorkOrder.__table__.delete())
        await s.commit()
    return Parts(db)


async def test_opening_routes_by_type_and_the_customers_tier(parts: Parts) -> None:
    key = await parts.customer("13700137000")  # key account: claims green channel
    walk_in = await parts.customer("13600136000")
    green = await parts.desk.open_as(
        NewWorkOrder(type="claim", claim_kind="loss", subject="lost", customer_id=key, waybill="sf1", call_id="c-9"),
        AGENT,
    )
    plain = await parts.desk.open_as(
        NewWorkOrder(type="claim", claim_kind="damage", subject="broken", customer_id=walk_in), AGENT
    )
    assert (green.department, green.escalation_level, green.sla_due_at) == ("key_accounts", 1, T0 + 24 * H)
    assert (plain.department, plain.escalation_level, plain.sla_due_at) == ("claims", 0, T0 + 72 * H)
    assert green.waybill == "SF1" and green.sla_state == SlaState.ok
    view = await parts.desk.get(green.id)
    assert view.customer_tier == "key_account" and [c.call_id for c in view.calls] == ["c-9"]
    assert [(h.actor, h.action) for h in view.history] == [("1001", "opened")]
    opened = parts.of(WorkOrderOpened)
    assert [(e.work_order_id, e.department, e.call_id) for e in opened] == [
        (green.id, "key_accounts", "c-9"),
        (plain.id, "claims", None),
    ]
    with pytest.raises(InvalidWorkOrder):
        await parts.desk.open_as(NewWorkOrder(type="inquiry", subject="?", customer_id=999_999), AGENT)
    unknown_caller = await parts.desk.open_as(NewWorkOrder(type="inquiry", subject="?"), AGENT)
    assert unknown_caller.department == "customer_service" and unknown_caller.sla_due_at == T0 + 24 * H


async def test_escalates_when_near_and_when_breached_once_each(parts: Parts) -> None:
    cid = await parts.customer("13600136000")  # walk-in pickup booking: 4 h, near at 3.2 h
    order = await parts.desk.open_as(NewWorkOrder(type="pickup_booking", subject="pickup", customer_id=cid), AGENT)
    parts.clock.advance(3 * H)
    assert await parts.escalator.run() == 0
    parts.clock.advance(timedelta(minutes=12))  # 3.2 h: 80 % of the SLA
    assert await parts.escalator.run() == 1
    assert await parts.escalator.run() == 0  # never twice for the same reason
    assert (await parts.desk.get(order.id)).sla_state == SlaState.near
    parts.clock.advance(48 * 60 * timedelta(seconds=1))  # 4 h: breached
    assert await parts.escalator.run() == 1
    parts.clock.advance(10 * H)
    assert await parts.escalator.run() == 0
    escalated = parts.of(WorkOrderEscalated)
    assert [(e.level, e.level_name, e.reason) for e in escalated] == [
        (1, "team_lead", "near"),
        (2, "department_head", "breached"),
    ]
    view = await parts.desk.get(order.id)
    assert view.escalation_level == 2 and view.sla_state == SlaState.breached and view.sla_seconds_left == -10 * 3600
    assert [(h.actor, h.action, h.old, h.new) for h in view.history[1:]] == [
        ("system", "escalated_near", "0", "1"),
        ("system", "escalated_breached", "1", "2"),
    ]
    assert view.history[1].at == T0 + timedelta(hours=3.2)
    # reopening does not re-arm a reason already used
    await parts.desk.update(order.id, WorkOrderUpdate(status="resolved"), AGENT)
    await parts.desk.update(order.id, WorkOrderUpdate(status="open"), AGENT)
    parts.clock.advance(H)
    assert await parts.escalator.run() == 0


async def test_an_order_first_seen_breached_gets_both_escalations_and_batches_run_through(parts: Parts) -> None:
    cid = await parts.customer("13600136000")
    ids = [
        (await parts.desk.open_as(NewWorkOrder(type="pickup_booking", subject=f"p{i}", customer_id=cid), AGENT)).id
        for i in range(5)
    ]
    parts.clock.advance(5 * H)
    assert await parts.escalator.run() == 10  # five orders, batches of two
    async with parts.db.session() as s:
        levels = list((await s.execute(select(WorkOrder.escalation_level).where(WorkOrder.id.in_(ids)))).scalars())
    assert levels == [2] * 5
    assert [e.reason for e in parts.of(WorkOrderEscalated)][:2] == ["near", "breached"]


async def test_waiting_for_the_customer_stops_the_sla_clock(parts: Parts) -> None:
    cid = await parts.customer("13600136000")
    order = await parts.desk.open_as(NewWorkOrder(type="pickup_booking", subject="p", customer_id=cid), AGENT)
    parts.clock.advance(2 * H)
    await parts.desk.update(order.id, WorkOrderUpdate(status="waiting_customer"), AGENT)
    parts.clock.advance(10 * H)  # waited for the customer for ten hours
    assert await parts.escalator.run() == 0
    view = await parts.desk.get(order.id)
    assert view.sla_state == SlaState.ok and view.sla_seconds_left == 2 * 3600 and not view.sla_running
    await parts.desk.update(order.id, WorkOrderUpdate(status="in_progress"), AGENT)
    view = await parts.desk.get(order.id)
    assert view.sla_due_at == T0 + 14 * H and view.sla_running
    assert ("sla_resumed", (T0 + 4 * H).isoformat(), (T0 + 14 * H).isoformat()) in [
        (h.action, h.old, h.new) for h in view.history
    ]
    parts.clock.advance(timedelta(hours=1, minutes=11))  # 3 h 11 min of running time: not yet near
    assert await parts.escalator.run() == 0
    parts.clock.advance(timedelta(minutes=1))
    assert await parts.escalator.run() == 1


async def test_life_cycle_history_permissions_and_first_contact_resolution(parts: Parts) -> None:
    cid = await parts.customer("13800138000")
    order = await parts.desk.open_as(
        NewWorkOrder(type="inquiry", subject="where is it", customer_id=cid, call_id="call-1"), AGENT
    )
    with pytest.raises(NotYourWorkOrder):
        await parts.desk.update(order.id, WorkOrderUpdate(notes="mine now"), OTHER)
    with pytest.raises(NotYourWorkOrder):
        await parts.desk.update(order.id, WorkOrderUpdate(assignee="1002"), AGENT)  # agents do not assign
    with pytest.raises(InvalidTransition):
        await parts.desk.update(order.id, WorkOrderUpdate(status="closed"), AGENT)
    await parts.desk.update(order.id, WorkOrderUpdate(assignee="1002"), SUPERVISOR)
    parts.clock.advance(timedelta(minutes=5))
    view = await parts.desk.update(order.id, WorkOrderUpdate(status="resolved", notes="told them"), OTHER)
    assert view.status == "resolved" and view.first_contact_resolution and view.resolved_at == T0 + timedelta(minutes=5)
    assert [(h.actor, h.action, h.field, h.old, h.new) for h in view.history] == [
        ("1001", "opened", None, None, "inquiry to customer_service, SLA 1 day, 0:00:00, level 0"),
        ("demo-supervisor", "changed", "assignee", None, "1002"),
        ("1002", "changed", "notes", None, "told them"),
        ("1002", "changed", "status", "open", "resolved"),
    ]
    changed = parts.of(WorkOrderChanged)
    assert [e.changes for e in changed] == [{"assignee": "1002"}, {"notes": "told them", "status": "resolved"}]

    # a revisit after resolution; a reopen cancels it and takes the first-contact resolution away
    revisit = await parts.desk.schedule_revisit(order.id, None, OTHER)
    assert revisit.due_at == T0 + timedelta(minutes=5) + 24 * H and revisit.state == "scheduled"
    assert [(e.work_order_id, e.due_at) for e in parts.of(RevisitScheduled)] == [(order.id, revisit.due_at)]
    with pytest.raises(Exception, match="already has a revisit"):
        await parts.desk.schedule_revisit(order.id, None, OTHER)
    view = await parts.desk.update(order.id, WorkOrderUpdate(status="open"), OTHER)
    assert view.reopen_count == 1 and not view.first_contact_resolution and view.resolved_at is None
    assert view.history[-1].action == "reopened" and [r.state for r in view.revisits] == ["cancelled"]
    with pytest.raises(RevisitNotAllowed):
        await parts.desk.schedule_revisit(order.id, None, OTHER)


async def test_first_contact_resolution_needs_a_quick_single_call_resolution(parts: Parts) -> None:
    cid = await parts.customer("13800138000")
    slow = await parts.desk.open_as(NewWorkOrder(type="inquiry", subject="a", customer_id=cid, call_id="k1"), AGENT)
    two_calls = await parts.desk.open_as(
        NewWorkOrder(type="inquiry", subject="b", customer_id=cid, call_id="k2"), AGENT
    )
    await parts.desk.link_call(two_calls.id, CallLink(call_id="k3", recording_id=7), AGENT)
    await parts.desk.link_call(two_calls.id, CallLink(call_id="k3"), AGENT)  # linking again changes nothing
    parts.clock.advance(timedelta(minutes=10))
    assert (
        await parts.desk.update(two_calls.id, WorkOrderUpdate(status="resolved"), AGENT)
    ).first_contact_resolution is False
    parts.clock.advance(timedelta(minutes=30))
    assert (
        await parts.desk.update(slow.id, WorkOrderUpdate(status="resolved"), AGENT)
    ).first_contact_resolution is False
    view = await parts.desk.get(two_calls.id)
    assert [c.call_id for c in view.calls] == ["k2", "k3"] and [r.recording_id for r in view.recordings] == [7]
    assert [h.action for h in view.history].count("call_linked") == 1


async def test_open_for_customer_and_the_queue_filters(parts: Parts) -> None:
    vip, walk_in = await parts.customer("13800138000"), await parts.customer("13600136000")
    urging = await parts.desk.open_as(
        NewWorkOrder(type="delivery_urging", subject="u", customer_id=vip, waybill="W1"), AGENT
    )
    pickup = await parts.desk.open_as(NewWorkOrder(type="pickup_booking", subject="p", customer_id=vip), AGENT)
    done = await parts.desk.open_as(NewWorkOrder(type="praise", subject="thanks", customer_id=vip), AGENT)
    await parts.desk.update(done.id, WorkOrderUpdate(status="resolved"), AGENT)
    other = await parts.desk.open_as(NewWorkOrder(type="inquiry", subject="i", customer_id=walk_in), AGENT)
    await parts.desk.update(other.id, WorkOrderUpdate(assignee="1003"), SUPERVISOR)
    parts.clock.advance(timedelta(hours=1, minutes=40))  # the VIP's pickup (2 h) is near
    mine = await parts.desk.open_for_customer(vip)
    assert [(o.id, o.sla_state) for o in mine] == [(pickup.id, SlaState.near), (urging.id, SlaState.ok)]
    assert await parts.desk.open_for_customer(vip, limit=1) == mine[:1]

    async def ids(**f: Any) -> list[int]:
        page = await search(parts.db, parts.policy, parts.clock, Filters(**f), 1, 50)
        return [i.id for i in page.items]

    assert await ids(department="delivery") == [urging.id]
    assert await ids(sla_state=SlaState.near) == [pickup.id]
    assert await ids(sla_state=SlaState.ok, statuses=(Status.open,)) == [urging.id, other.id]
    assert await ids(statuses=(Status.resolved, Status.closed)) == [done.id]
    assert await ids(waybill="w1") == [urging.id]
    assert await ids(assignee="1003") == [other.id]
    assert await ids(customer_id=walk_in) == [other.id]
    assert await ids(type="praise") == [done.id]
    page = await search(parts.db, parts.policy, parts.clock, Filters(), 2, 3)
    assert page.total == 4 and len(page.items) == 1


async def test_demo_orders_show_every_sla_colour(db: Database) -> None:
    await load_demo_data(db)
    await load_demo_data(db)  # idempotent
    parts = Parts(db)
    parts.clock.now = datetime.now(UTC)
    page = await search(db, parts.policy, parts.clock, Filters(), 1, 50)
    assert page.total == 7
    states = {i.subject: (i.sla_state, i.escalation_level) for i in page.items}
    assert states["Pickup not done: courier never came"] == (SlaState.breached, 2)
    assert states["Customs duty for a parcel from Japan"] == (SlaState.near, 1)
    assert states["Two cartons of phones lost between Shenzhen and Wuhan"] == (SlaState.ok, 1)
    zhang = await parts.customer("13800138000")
    assert {o.waybill for o in await parts.desk.open_for_customer(zhang)} == {"7700000000024", "7700000000032"}
    resolved = next(i for i in page.items if i.status == "resolved")
    assert (await parts.desk.get(resolved.id)).first_contact_resolution is True


async def test_the_migration_moves_tickets_into_work_orders_and_back(pg_url: str) -> None:
    await asyncio.to_thread(downgrade, pg_url, "0005")
    conn = await asyncpg.connect(pg_url.replace("+asyncpg", ""))
    try:
        await conn.execute("TRUNCATE customers CASCADE")
        await conn.execute(
            "INSERT INTO customers (id, name, phone, tier) VALUES (1, 'a', '+8613800138001', 'key_account')"
        )
        await conn.execute(
            "INSERT INTO tickets (id, customer_id, kind, subject, waybill, status, created_at) VALUES "
            "(7, 1, 'claim', 'broken vase', 'SF1', 'open', '2026-11-20T08:00:00Z'),"
            "(9, 1, 'odd', 'something', NULL, 'closed', '2026-11-21T08:00:00Z')"
        )
        await asyncio.to_thread(upgrade, pg_url)
        rows = await conn.fetch(
            "SELECT id, type, department, status, escalation_level, sla_due_at, sla_stopped_at IS NULL AS running"
            " FROM work_orders ORDER BY id"
        )
        assert [tuple(r) for r in rows] == [
            (7, "claim", "key_accounts", "open", 1, datetime(2026, 11, 21, 8, tzinfo=UTC), True),
            (9, "inquiry", "customer_service", "closed", 0, datetime(2026, 11, 22, 8, tzinfo=UTC), False),
        ]
        assert await conn.fetchval("SELECT count(*) FROM work_order_history WHERE action = 'opened'") == 2
        assert await conn.fetchval("SELECT to_regclass('tickets')") is None
        new_id = await conn.fetchval(
            "INSERT INTO work_orders (type, department, subject, status, opened_by, opened_at, updated_at,"
            " sla_seconds, sla_near_at, sla_due_at, escalation_level, reopen_count)"
            " VALUES ('inquiry', 'cs', 's', 'waiting_customer', 'x', now(), now(), 1, now(), now(), 0, 0) RETURNING id"
        )
        await conn.execute("UPDATE work_orders SET customer_id = 1 WHERE id = $1", new_id)
        assert new_id == 10
        await asyncio.to_thread(downgrade, pg_url, "0005")
        back = await conn.fetch("SELECT id, kind, CAST(status AS text) AS status FROM tickets ORDER BY id")
        assert [tuple(r) for r in back] == [
            (7, "claim", "open"),
            (9, "inquiry", "closed"),
            (10, "inquiry", "in_progress"),
        ]
        await conn.execute("TRUNCATE customers CASCADE")
        await asyncio.to_thread(upgrade, pg_url)
    finally:
        await conn.close()


async def test_the_escalation_job_runs_periodically_and_stops(parts: Parts) -> None:
    cid = await parts.customer("13600136000")
    order = await parts.desk.open_as(NewWorkOrder(type="pickup_booking", subject="p", customer_id=cid), AGENT)
    job = Escalator(parts.db, parts.bus, parts.policy, parts.clock, every=0.05)
    job.start()
    try:
        parts.clock.advance(5 * H)
        await until(lambda: len(parts.of(WorkOrderEscalated)) == 2, timeout=10)
    finally:
        await job.stop()
    assert not job.task.running and job.escalations_total == 2
    assert [e.work_order_id for e in parts.of(WorkOrderEscalated)] == [order.id, order.id]
