"""The back office's queue: work orders filtered and paged, most urgent first."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, func, select

from hotline.db import Database
from workorders.models import WorkOrder
from workorders.policy import Policy
from workorders.schemas import WorkOrderPage
from workorders.services.views import row
from workorders.states import SlaState, Status


@dataclass(frozen=True)
class Filters:
    department: str | None = None
    statuses: tuple[Status, ...] = ()
    type: str | None = None
    customer_id: int | None = None
    waybill: str | None = None
    sla_state: SlaState | None = None
    assignee: str | None = None


def sla_condition(state: SlaState, now: datetime) -> ColumnElement[bool]:
    """The SLA state in SQL, read as the clock does: at the instant it stopped, else now."""
    at = func.coalesce(WorkOrder.sla_stopped_at, now)
    if state == SlaState.breached:
        return at >= WorkOrder.sla_due_at
    if state == SlaState.near:
        return and_(at >= WorkOrder.sla_near_at, at < WorkOrder.sla_due_at)
    return at < WorkOrder.sla_near_at


def conditions(f: Filters, now: datetime) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = []
    if f.department:
        where.append(WorkOrder.department == f.department)
    if f.statuses:
        where.append(WorkOrder.status.in_([s.value for s in f.statuses]))
    if f.type:
        where.append(WorkOrder.type == f.type)
    if f.customer_id is not None:
        where.append(WorkOrder.customer_id == f.customer_id)
    if f.waybill:
        where.append(WorkOrder.waybill == f.waybill.upper())
    if f.sla_state:
        where.append(sla_condition(f.sla_state, now))
    if f.assignee:
        where.append(WorkOrder.assignee == f.assignee)
    return where


async def search(
    db: Database, policy: Policy, clock: Callable[[], datetime], f: Filters, page: int, page_size: int
) -> WorkOrderPage:
    now = clock()
    where: list[Any] = conditions(f, now)
    stmt = (
        select(WorkOrder)
        .where(*where)
        .order_by(WorkOrder.sla_due_at, WorkOrder.id)
        .offset((page - 1) * page_size)
        .limit(page_size)
    )
    async with db.session() as s:
        total = await s.scalar(select(func.count()).select_from(WorkOrder).where(*where)) or 0
        items = [row(o, now, policy) for o in (await s.execute(stmt)).scalars()]
    return WorkOrderPage(items=items, total=total, page=page, page_size=page_size)
