"""Demo work orders (demo mode only): Zhang Wei's delivery urging and damage claim (his former tickets) and a
few more across the departments, timed against now so the queue shows every SLA colour: one near its SLA,
one breached (escalated as the job would have), one waiting for the customer, one resolved at first contact.
Waybills are placeholders."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.auth import Passwords
from workorders.models import WorkOrder, WorkOrderCall, WorkOrderHistory
from workorders.policy import Policy
from workorders.sla import BREACHED, NEAR, SlaClock
from workorders.states import Status, WorkOrderType


@dataclass(frozen=True)
class DemoOrder:
    phone: str  # the customer's, E.164
    type: WorkOrderType
    subject: str
    waybill: str | None
    opened_ago: timedelta  # how long before the demo load it was opened
    opened_by: str
    claim_kind: str | None = None
    status: Status = Status.open
    assignee: str | None = None


ORDERS = [
    DemoOrder(
        "+8613800138000",
        WorkOrderType.delivery_urging,
        "Parcel stuck at Beijing hub for 3 days",
        "7700000000024",
        timedelta(hours=2),
        "1001",
        assignee="1001",
    ),
    DemoOrder(
        "+8613800138000",
        WorkOrderType.claim,
        "Damaged ceramic vase, claim filed",
        "7700000000032",
        timedelta(hours=5),
        "1001",
        claim_kind="damage",
    ),
    DemoOrder(
        "+8613900139000",
        WorkOrderType.inquiry,
        "Customs duty for a parcel from Japan",
        None,
        timedelta(hours=20),
        "1002",
        status=Status.in_progress,
        assignee="1002",
    ),  # near its SLA
    DemoOrder(
        "+8613600136000",
        WorkOrderType.pickup_booking,
        "Pickup not done: courier never came",
        "7700000000065",
        timedelta(hours=6),
        "1003",
    ),  # breached (4 h SLA)
    DemoOrder(
        "+8613700137000",
        WorkOrderType.claim,
        "Two cartons of phones lost between Shenzhen and Wuhan",
        "7700000000073",
        timedelta(hours=3),
        "1002",
        claim_kind="loss",
    ),  # key-account green channel
    DemoOrder(
        "+8613900139000",
        WorkOrderType.complaint,
        "Courier was rude at the door",
        "EE123456785JP",
        timedelta(hours=1),
        "1003",
        status=Status.waiting_customer,
    ),
    DemoOrder(
        "+8613700137000",
        WorkOrderType.praise,
        "Thanks to the Futian station for a same-day delivery",
        None,
        timedelta(minutes=40),
        "1001",
        status=Status.resolved,
    ),
]


async def load(session: AsyncSession, _: Passwords) -> None:
    """Idempotent: a demo order already there (same customer and subject) is left as it is."""
    policy = Policy.load()
    now = datetime.now(UTC)
    rows = await session.execute(text("SELECT id, phone, tier FROM customers"))
    customers = {r.phone: (r.id, r.tier) for r in rows}
    known = {
        (r.customer_id, r.subject) for r in await session.execute(select(WorkOrder.customer_id, WorkOrder.subject))
    }
    for demo in ORDERS:
        if demo.phone not in customers or (customers[demo.phone][0], demo.subject) in known:
            continue
        customer_id, tier = customers[demo.phone]
        order, dependents = _order(demo, customer_id, str(tier), policy, now)
        session.add(order)
        await session.flush()
        for row in dependents:
            row.work_order_id = order.id
        session.add_all(dependents)


def _order(
    demo: DemoOrder, customer_id: int, tier: str, policy: Policy, now: datetime
) -> tuple[WorkOrder, list[WorkOrderHistory | WorkOrderCall]]:
    routing = policy.route(demo.type, tier)
    opened = now - demo.opened_ago
    clock = SlaClock.start(opened, routing.sla, policy.near_fraction)
    order = WorkOrder(
        type=demo.type.value,
        claim_kind=demo.claim_kind,
        department=routing.department,
        subject=demo.subject,
        customer_id=customer_id,
        customer_tier=tier,
        waybill=demo.waybill,
        status=Status.open.value,
        assignee=demo.assignee,
        opened_by=demo.opened_by,
        opened_at=opened,
        updated_at=opened,
        sla_seconds=int(routing.sla.total_seconds()),
        sla_near_at=clock.near_at,
        sla_due_at=clock.due_at,
        escalation_level=routing.level,
        reopen_count=0,
    )
    history = [
        WorkOrderHistory(at=opened, actor=demo.opened_by, action="opened", new=f"{demo.type} to {routing.department}")
    ]
    extra: list[WorkOrderCall] = []
    if demo.status == Status.resolved:  # resolved on the call it was opened on: a first-contact resolution
        call = f"demo-{demo.opened_by}-{int(opened.timestamp())}"
        order.first_call_id = call
        extra.append(WorkOrderCall(call_id=call, linked_at=opened, linked_by=demo.opened_by))
        at = opened + timedelta(minutes=5)
        clock = clock.stop(at)
        order.resolved_at = order.first_resolved_at = at
    elif demo.status == Status.waiting_customer:
        at = opened + timedelta(minutes=30)
        clock = clock.stop(at)
    else:
        at = opened + timedelta(minutes=10)
        for reason in clock.due_escalations(now, near_done=False, breached_done=False):  # as the job would have
            stamp = clock.near_at if reason == NEAR else clock.due_at
            history.append(
                WorkOrderHistory(
                    at=stamp,
                    actor="system",
                    action=f"escalated_{reason}",
                    field="escalation_level",
                    old=str(order.escalation_level),
                    new=str(min(order.escalation_level + 1, policy.top_level)),
                )
            )
            order.escalation_level = min(order.escalation_level + 1, policy.top_level)
            if reason == NEAR:
                order.escalated_near_at = stamp
            elif reason == BREACHED:
                order.escalated_breached_at = stamp
    if demo.status != Status.open:
        history.append(
            WorkOrderHistory(at=at, actor=demo.opened_by, action="changed", field="status", old="open", new=demo.status)
        )
        order.status = demo.status.value
        order.updated_at = at
    order.sla_stopped_at = clock.stopped_at
    return order, [*history, *extra]
