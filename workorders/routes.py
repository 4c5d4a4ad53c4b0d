"""Work orders' REST API: the searchable queue, one order with its history and links, open, change, link a
call, schedule a revisit. Agents open work orders and change the ones they opened or are assigned to;
supervisors and admins manage all of them (assign, any change)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from fastapi import APIRouter, Depends, Query
from fastapi import Path as PathParam

from hotline.auth import Access, Principal, Role
from workorders.policy import Policy
from workorders.schemas import (
    CallLink,
    Catalogue,
    NewWorkOrder,
    RevisitRequest,
    RevisitView,
    WorkOrderPage,
    WorkOrderSummary,
    WorkOrderUpdate,
    WorkOrderView,
)
from workorders.services.desk import Actor, WorkOrderService
from workorders.services.search import Filters, search
from workorders.states import TRANSITIONS, ClaimKind, SlaState, Status, WorkOrderType


def actor(me: Principal) -> Actor:
    return Actor(me.username, manager=me.is_admin or me.has(Role.supervisor))


def build_router(desk: WorkOrderService, policy: Policy, access: Access, clock: Callable[[], datetime]) -> APIRouter:
    router = APIRouter(prefix="/api/work-orders", tags=["work orders"])
    staff = Depends(access.requires(Role.agent, Role.supervisor))
    WorkOrderId = PathParam(ge=1, le=2**31 - 1)

    @router.get("", response_model=WorkOrderPage, summary="The queue: filtered, paged, earliest due first")
    async def queue(
        department: str | None = Query(None, max_length=40),
        status: list[Status] = Query([], description="any of these statuses (repeat the parameter)"),
        type: WorkOrderType | None = Query(None),
        customer_id: int | None = Query(None, ge=1, le=2**31 - 1),
        waybill: str | None = Query(None, max_length=40),
        sla_state: SlaState | None = Query(None),
        assignee: str | None = Query(None, max_length=64),
        page: int = Query(1, ge=1, le=100_000),
        page_size: int = Query(50, ge=1, le=500),
        _: Principal = staff,
    ) -> WorkOrderPage:
        filters = Filters(
            department=department,
            statuses=tuple(status),
            type=type.value if type else None,
            customer_id=customer_id,
            waybill=waybill,
            sla_state=sla_state,
            assignee=assignee,
        )
        return await search(desk.db, policy, clock, filters, page, page_size)

    @router.get("/catalogue", response_model=Catalogue, summary="Types, statuses, departments, escalation levels")
    async def catalogue(_: Principal = staff) -> Catalogue:
        return Catalogue(
            types=list(WorkOrderType),
            claim_kinds=list(ClaimKind),
            statuses=list(Status),
            transitions={s.value: sorted(t.value for t in targets) for s, targets in TRANSITIONS.items()},
            departments=policy.departments(),
            levels=policy.levels,
            near_fraction=policy.near_fraction,
        )

    @router.post("", response_model=WorkOrderSummary, status_code=201, summary="Open a work order")
    async def open_order(body: NewWorkOrder, me: Principal = staff) -> WorkOrderSummary:
        return await desk.open_as(body, actor(me))

    @router.get("/{work_order_id}", response_model=WorkOrderView, summary="One work order: history, calls, revisits")
    async def one(work_order_id: int = WorkOrderId, _: Principal = staff) -> WorkOrderView:
        return await desk.get(work_order_id)

    @router.patch(
        "/{work_order_id}",
        response_model=WorkOrderView,
        summary="Change status, assignee or notes (agents: their own orders, no assigning)",
    )
    async def change(body: WorkOrderUpdate, work_order_id: int = WorkOrderId, me: Principal = staff) -> WorkOrderView:
        return await desk.update(work_order_id, body, actor(me))

    @router.post("/{work_order_id}/calls", response_model=WorkOrderView, summary="Link a call (and its recording)")
    async def link_call(body: CallLink, work_order_id: int = WorkOrderId, me: Principal = staff) -> WorkOrderView:
        return await desk.link_call(work_order_id, body, actor(me))

    @router.post(
        "/{work_order_id}/revisits",
        response_model=RevisitView,
        status_code=201,
        summary="Schedule a satisfaction revisit of a resolved work order",
    )
    async def revisit(body: RevisitRequest, work_order_id: int = WorkOrderId, me: Principal = staff) -> RevisitView:
        return await desk.schedule_revisit(work_order_id, body.due_at, actor(me))

    return router
