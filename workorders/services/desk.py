"""The work-order desk: open, change (status, assignee, notes), link calls and recordings, schedule revisits.

Every change is written to the history in the same transaction as the change itself, with who and when;
the bus hears of it after the commit. Who may change what is decided here, from the actor: managers
(supervisors, admins) change anything; an agent changes only the work orders they opened or are assigned
to, and does not hand them to someone else.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from sqlalchemy import String, any_, bindparam, func, literal, select, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.bus import EventBus
from hotline.db import Database
from hotline.errors import Conflict
from workorders.errors import InvalidWorkOrder, NotYourWorkOrder, RevisitNotAllowed, WorkOrderNotFound
from workorders.events import RevisitScheduled, WorkOrderChanged, WorkOrderOpened
from workorders.models import Revisit, WorkOrder, WorkOrderCall, WorkOrderHistory, WorkOrderRecording
from workorders.policy import Policy
from workorders.schemas import (
    CallLink,
    CallLinkView,
    HistoryEntry,
    NewWorkOrder,
    RecordingLinkView,
    RevisitView,
    WorkOrderSummary,
    WorkOrderUpdate,
    WorkOrderView,
)
from workorders.services.views import clock_of, first_contact_resolution, row, summary
from workorders.sla import SlaClock
from workorders.states import ACTIVE, CLOCK_RUNS, Status, WorkOrderType, check_transition, is_reopen

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


# a screen-pop's read, on every call with a known customer: only the columns a summary shows, in a statement
# built once (building it, and an ORM object per row, cost more CPU than PostgreSQL's answer)
OPEN_FOR_CUSTOMER = (
    select(
        WorkOrder.id,
        WorkOrder.type,
        WorkOrder.claim_kind,
        WorkOrder.department,
        WorkOrder.subject,
        WorkOrder.waybill,
        WorkOrder.status,
        WorkOrder.sla_near_at,
        WorkOrder.sla_due_at,
        WorkOrder.sla_stopped_at,
        WorkOrder.escalation_level,
    )
    .where(
        WorkOrder.customer_id == bindparam("customer_id"),
        WorkOrder.status == any_(literal([s.value for s in ACTIVE], ARRAY(String))),  # no expanding IN: fast path
    )
    .order_by(WorkOrder.sla_due_at, WorkOrder.id)
    .limit(bindparam("limit"))
)


class CustomerCardLike(Protocol):
    @property
    def tier(self) -> str: ...


class CustomerTiers(Protocol):
    """The one thing the desk needs from the customers' service (crm_bridge's CUSTOMERS fits it)."""

    def card_by_id(self, customer_id: int) -> Awaitable[CustomerCardLike | None]: ...


@dataclass(frozen=True)
class Actor:
    username: str
    manager: bool  # supervisors and admins manage every work order


def _text(value: Any) -> str | None:
    if value is None:
        return None
    return value.isoformat() if isinstance(value, datetime) else str(value)


class WorkOrderService:
    """Implements ``workorders.interface.WorkOrderDesk`` and the back office's operations."""

    def __init__(
        self,
        db: Database,
        bus: EventBus,
        policy: Policy,
        customers: Callable[[], CustomerTiers],
        clock: Clock = utc_now,
    ) -> None:
        self.db = db
        self.bus = bus
        self.policy = policy
        self.customers = customers
        self.clock = clock

    # --- the interface ---------------------------------------------------------------------------------

    async def open_for_customer(self, customer_id: int, limit: int = 10) -> list[WorkOrderSummary]:
        now = self.clock()
        rows = await self.db.fetch(OPEN_FOR_CUSTOMER, {"customer_id": customer_id, "limit": limit})
        return [summary(r, now) for r in rows]

    async def open(self, order: NewWorkOrder, by: str) -> WorkOrderSummary:
        return await self.open_as(order, Actor(by, manager=True))

    # --- the back office -------------------------------------------------------------------------------

    async def open_as(self, new: NewWorkOrder, actor: Actor) -> WorkOrderSummary:
        if new.assignee and not actor.manager and new.assignee != actor.username:
            raise NotYourWorkOrder("agents do not assign work orders to others: a supervisor does")
        tier = await self._tier(new.customer_id)
        routing = self.policy.route(WorkOrderType(new.type), tier)
        now = self.clock()
        clock = SlaClock.start(now, routing.sla, self.policy.near_fraction)
        order = WorkOrder(
            type=new.type.value,
            claim_kind=new.claim_kind.value if new.claim_kind else None,
            department=routing.department,
            subject=new.subject,
            notes=new.notes,
            customer_id=new.customer_id,
            customer_tier=tier,
            waybill=new.waybill.upper() if new.waybill else None,
            status=Status.open.value,
            assignee=new.assignee or None,
            opened_by=actor.username,
            opened_at=now,
            updated_at=now,
            first_call_id=new.call_id,
            sla_seconds=int(routing.sla.total_seconds()),
            sla_near_at=clock.near_at,
            sla_due_at=clock.due_at,
            escalation_level=routing.level,
            reopen_count=0,
        )
        async with self.db.session() as s:
            s.add(order)
            await s.flush()
            what = f"{order.type} to {order.department}, SLA {routing.sla}, level {routing.level}"
            self._record(s, order, now, actor.username, "opened", new=what)
            if new.call_id:
                s.add(
                    WorkOrderCall(work_order_id=order.id, call_id=new.call_id, linked_at=now, linked_by=actor.username)
                )
            await s.commit()
        self.bus.publish(
            WorkOrderOpened(
                work_order_id=order.id,
                type=order.type,
                claim_kind=order.claim_kind,
                department=order.department,
                customer_id=order.customer_id,
                waybill=order.waybill,
                subject=order.subject,
                status=order.status,
                call_id=new.call_id,
                by=actor.username,
                sla_due_at=order.sla_due_at,
                escalation_level=order.escalation_level,
                at=now,
            )
        )
        return summary(order, now)

    async def get(self, work_order_id: int) -> WorkOrderView:
        now = self.clock()
        async with self.db.session() as s:
            order = await self._order(s, work_order_id)
            history = (
                await s.execute(
                    select(WorkOrderHistory)
                    .where(WorkOrderHistory.work_order_id == work_order_id)
                    .order_by(WorkOrderHistory.id)
                )
            ).scalars()
            calls = list(
                (
                    await s.execute(
                        select(WorkOrderCall)
                        .where(WorkOrderCall.work_order_id == work_order_id)
                        .order_by(WorkOrderCall.linked_at)
                    )
                ).scalars()
            )
            recordings = (
                await s.execute(select(WorkOrderRecording).where(WorkOrderRecording.work_order_id == work_order_id))
            ).scalars()
            revisits = (
                await s.execute(select(Revisit).where(Revisit.work_order_id == work_order_id).order_by(Revisit.id))
            ).scalars()
            return WorkOrderView(
                **row(order, now, self.policy).model_dump(),
                notes=order.notes,
                first_call_id=order.first_call_id,
                first_resolved_at=order.first_resolved_at,
                resolved_at=order.resolved_at,
                closed_at=order.closed_at,
                reopen_count=order.reopen_count,
                first_contact_resolution=first_contact_resolution(order, len(calls), self.policy),
                history=[HistoryEntry.model_validate(h) for h in history],
                calls=[CallLinkView.model_validate(c) for c in calls],
                recordings=[RecordingLinkView.model_validate(r) for r in recordings],
                revisits=[RevisitView.model_validate(r) for r in revisits],
            )

    async def update(self, work_order_id: int, change: WorkOrderUpdate, actor: Actor) -> WorkOrderView:
        now = self.clock()
        changes: dict[str, str | None] = {}
        async with self.db.session() as s:
            order = await self._order(s, work_order_id, for_update=True)
            self._may_change(order, actor)
            if change.assignee is not None and (change.assignee or None) != order.assignee:
                if not actor.manager:
                    raise NotYourWorkOrder("agents do not assign work orders: a supervisor does")
                changes["assignee"] = self._set(s, order, now, actor, "assignee", change.assignee or None)
            if change.notes is not None and change.notes != (order.notes or ""):
                changes["notes"] = self._set(s, order, now, actor, "notes", change.notes or None)
            if change.status is not None and change.status != order.status:
                changes["status"] = await self._move(s, order, Status(change.status), now, actor)
            if changes:
                order.updated_at = now
                await s.commit()
        if changes:
            self._changed(order, actor, changes, now)
        return await self.get(work_order_id)

    async def link_call(self, work_order_id: int, link: CallLink, actor: Actor) -> WorkOrderView:
        now = self.clock()
        async with self.db.session() as s:
            order = await self._order(s, work_order_id, for_update=True)
            self._may_change(order, actor)
            changes: dict[str, str | None] = {}
            if await s.get(WorkOrderCall, (work_order_id, link.call_id)) is None:
                s.add(
                    WorkOrderCall(
                        work_order_id=work_order_id, call_id=link.call_id, linked_at=now, linked_by=actor.username
                    )
                )
                self._record(s, order, now, actor.username, "call_linked", field="call_id", new=link.call_id)
                changes["call_id"] = link.call_id
            if link.recording_id and await s.get(WorkOrderRecording, (work_order_id, link.recording_id)) is None:
                s.add(
                    WorkOrderRecording(
                        work_order_id=work_order_id,
                        recording_id=link.recording_id,
                        linked_at=now,
                        linked_by=actor.username,
                    )
                )
                self._record(
                    s, order, now, actor.username, "recording_linked", field="recording_id", new=str(link.recording_id)
                )
                changes["recording_id"] = str(link.recording_id)
            if changes:
                order.updated_at = now
                await s.commit()
        if changes:
            self._changed(order, actor, changes, now)
        return await self.get(work_order_id)

    def _changed(self, order: WorkOrder, actor: Actor, changes: dict[str, str | None], now: datetime) -> None:
        self.bus.publish(
            WorkOrderChanged(
                work_order_id=order.id,
                type=order.type,
                customer_id=order.customer_id,
                waybill=order.waybill,
                subject=order.subject,
                by=actor.username,
                status=order.status,
                changes=changes,
                at=now,
            )
        )

    async def schedule_revisit(self, work_order_id: int, due_at: datetime | None, actor: Actor) -> RevisitView:
        """A satisfaction revisit of a resolved (or closed) work order; one scheduled at a time."""
        now = self.clock()
        due = due_at or now + self.policy.revisit_after
        if due.tzinfo is None:
            raise InvalidWorkOrder("due_at needs a time zone")
        async with self.db.session() as s:
            order = await self._order(s, work_order_id, for_update=True)
            self._may_change(order, actor)
            if order.status not in (Status.resolved, Status.closed):
                raise RevisitNotAllowed(f"work order {work_order_id} is {order.status}: revisits follow a resolution")
            pending = await s.scalar(
                select(func.count())
                .select_from(Revisit)
                .where(Revisit.work_order_id == work_order_id, Revisit.state == "scheduled")
            )
            if pending:
                raise Conflict(f"work order {work_order_id} already has a revisit scheduled")
            revisit = Revisit(
                work_order_id=work_order_id, due_at=due, state="scheduled", created_at=now, created_by=actor.username
            )
            s.add(revisit)
            self._record(s, order, now, actor.username, "revisit_scheduled", field="revisit_due_at", new=_text(due))
            await s.commit()
            view = RevisitView.model_validate(revisit)
        self.bus.publish(
            RevisitScheduled(
                revisit_id=view.id,
                work_order_id=work_order_id,
                customer_id=order.customer_id,
                due_at=due,
                by=actor.username,
            )
        )
        return view

    # --- inside ----------------------------------------------------------------------------------------

    async def _tier(self, customer_id: int | None) -> str | None:
        if customer_id is None:
            return None
        card = await self.customers().card_by_id(customer_id)
        if card is None:
            raise InvalidWorkOrder(f"no customer {customer_id}")
        return card.tier

    @staticmethod
    async def _order(s: AsyncSession, work_order_id: int, for_update: bool = False) -> WorkOrder:
        stmt = select(WorkOrder).where(WorkOrder.id == work_order_id)
        if for_update:
            stmt = stmt.with_for_update()
        order = (await s.execute(stmt)).scalar_one_or_none()
        if order is None:
            raise WorkOrderNotFound(f"no work order {work_order_id}")
        return order

    @staticmethod
    def _may_change(order: WorkOrder, actor: Actor) -> None:
        if actor.manager or actor.username in (order.opened_by, order.assignee):
            return
        raise NotYourWorkOrder(f"work order {order.id} is neither opened by nor assigned to {actor.username}")

    @staticmethod
    def _record(
        s: AsyncSession,
        order: WorkOrder,
        at: datetime,
        actor: str,
        action: str,
        field: str | None = None,
        old: str | None = None,
        new: str | None = None,
    ) -> None:
        s.add(
            WorkOrderHistory(work_order_id=order.id, at=at, actor=actor, action=action, field=field, old=old, new=new)
        )

    def _set(
        self, s: AsyncSession, order: WorkOrder, now: datetime, actor: Actor, field: str, value: Any
    ) -> str | None:
        old = getattr(order, field)
        setattr(order, field, value)
        self._record(s, order, now, actor.username, "changed", field=field, old=_text(old), new=_text(value))
        return _text(value)

    async def _move(self, s: AsyncSession, order: WorkOrder, wanted: Status, now: datetime, actor: Actor) -> str:
        current = Status(order.status)
        check_transition(current, wanted)
        reopen = is_reopen(current, wanted)
        before = clock_of(order)
        after = before.resume(now) if wanted in CLOCK_RUNS else before.stop(now)
        order.status = wanted.value
        self._record(s, order, now, actor.username, "reopened" if reopen else "changed", "status", current, wanted)
        if after.due_at != before.due_at:  # the time stood still is given back to the SLA
            self._record(
                s, order, now, actor.username, "sla_resumed", "sla_due_at", _text(before.due_at), _text(after.due_at)
            )
        order.sla_near_at, order.sla_due_at, order.sla_stopped_at = after.near_at, after.due_at, after.stopped_at
        if wanted == Status.resolved:
            order.resolved_at = now
            order.first_resolved_at = order.first_resolved_at or now
        elif wanted == Status.closed:
            order.closed_at = now
        if reopen:
            order.reopen_count += 1
            order.resolved_at = order.closed_at = None
            await s.execute(
                update(Revisit)
                .where(Revisit.work_order_id == order.id, Revisit.state == "scheduled")
                .values(state="cancelled")
            )
        return wanted.value
