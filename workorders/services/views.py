"""Rows to API shapes: the SLA clock read at a given instant, first-contact resolution derived."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from workorders.models import WorkOrder
from workorders.policy import Policy
from workorders.schemas import WorkOrderRow, WorkOrderSummary
from workorders.sla import SlaClock
from workorders.states import Status


class SummaryFields(Protocol):
    """What a summary reads: a ``WorkOrder``, or a row of the same-named columns (the screen-pop's read)."""

    @property
    def id(self) -> int: ...
    @property
    def type(self) -> str: ...
    @property
    def claim_kind(self) -> str | None: ...
    @property
    def department(self) -> str: ...
    @property
    def subject(self) -> str: ...
    @property
    def waybill(self) -> str | None: ...
    @property
    def status(self) -> str: ...
    @property
    def sla_near_at(self) -> datetime: ...
    @property
    def sla_due_at(self) -> datetime: ...
    @property
    def sla_stopped_at(self) -> datetime | None: ...
    @property
    def escalation_level(self) -> int: ...


def clock_of(order: SummaryFields) -> SlaClock:
    return SlaClock(near_at=order.sla_near_at, due_at=order.sla_due_at, stopped_at=order.sla_stopped_at)


def summary(order: SummaryFields, now: datetime) -> WorkOrderSummary:
    return WorkOrderSummary(
        id=order.id,
        type=order.type,
        claim_kind=order.claim_kind,
        department=order.department,
        subject=order.subject,
        waybill=order.waybill,
        status=order.status,
        sla_due_at=order.sla_due_at,
        sla_state=clock_of(order).state(now),
        escalation_level=order.escalation_level,
    )


def row(order: WorkOrder, now: datetime, policy: Policy) -> WorkOrderRow:
    clock = clock_of(order)
    levels = policy.levels
    return WorkOrderRow(
        **summary(order, now).model_dump(),
        customer_id=order.customer_id,
        customer_tier=order.customer_tier,
        assignee=order.assignee,
        opened_by=order.opened_by,
        opened_at=order.opened_at,
        updated_at=order.updated_at,
        sla_seconds_left=clock.remaining(now).total_seconds(),
        sla_running=clock.running,
        escalation_name=levels[min(order.escalation_level, len(levels) - 1)],
    )


def first_contact_resolution(order: WorkOrder, calls: int, policy: Policy) -> bool:
    """Resolved at the first contact: its first resolution came within the policy's window (30 min) of its
    opening, it was never reopened, and no call other than the one it was opened on is linked to it."""
    return (
        order.status in (Status.resolved, Status.closed)
        and order.first_resolved_at is not None
        and order.reopen_count == 0
        and order.first_resolved_at - order.opened_at <= policy.fcr_window
        and calls <= 1
    )
