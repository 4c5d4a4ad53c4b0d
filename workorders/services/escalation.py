"""The escalation job: every work order whose SLA clock runs is escalated one level when its SLA is near and
once more when it is breached (workorders.sla), each recorded in its history and published on the bus.

Each reason is stamped on the order (``escalated_near_at``, ``escalated_breached_at``) in the transaction
that escalates it, under a row lock taken with SKIP LOCKED: two controllers, or a run overlapping a desk
change, never escalate the same order twice for the same reason.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy import and_, or_, select

from hotline.background import Periodic
from hotline.bus import EventBus
from hotline.db import Database
from hotline.logs import get_logger
from workorders.events import WorkOrderEscalated
from workorders.models import WorkOrder, WorkOrderHistory
from workorders.policy import Policy
from workorders.services.views import clock_of
from workorders.sla import BREACHED, NEAR
from workorders.states import CLOCK_RUNS

log = get_logger(__name__)
SYSTEM = "system"


class Escalator:
    def __init__(
        self,
        db: Database,
        bus: EventBus,
        policy: Policy,
        clock: Callable[[], datetime],
        every: float = 30.0,
        batch: int = 200,
    ) -> None:
        self.db = db
        self.bus = bus
        self.policy = policy
        self.clock = clock
        self.batch = batch
        self.escalations_total = 0
        self.task = Periodic("work-order escalation", self.run, every)

    async def run(self) -> int:
        """Escalate what is due now; returns how many escalations were made."""
        made = 0
        while True:
            orders, events = await self._batch(self.clock())
            made += len(events)
            for event in events:
                self.bus.publish(event)
            if orders < self.batch:
                break
        if made:
            self.escalations_total += made
            log.info("work orders escalated", escalations=made)
        return made

    async def _batch(self, now: datetime) -> tuple[int, list[WorkOrderEscalated]]:
        stmt = (
            select(WorkOrder)
            .where(
                WorkOrder.status.in_([s.value for s in CLOCK_RUNS]),
                WorkOrder.sla_stopped_at.is_(None),
                or_(
                    and_(WorkOrder.escalated_near_at.is_(None), WorkOrder.sla_near_at <= now),
                    and_(WorkOrder.escalated_breached_at.is_(None), WorkOrder.sla_due_at <= now),
                ),
            )
            .order_by(WorkOrder.sla_due_at)
            .limit(self.batch)
            .with_for_update(skip_locked=True)
        )
        events: list[WorkOrderEscalated] = []
        async with self.db.session() as s:
            orders = list((await s.execute(stmt)).scalars())
            for order in orders:
                reasons = clock_of(order).due_escalations(
                    now, order.escalated_near_at is not None, order.escalated_breached_at is not None
                )
                for reason in reasons:
                    old = order.escalation_level
                    order.escalation_level = min(old + 1, self.policy.top_level)
                    if reason == NEAR:
                        order.escalated_near_at = now
                    elif reason == BREACHED:
                        order.escalated_breached_at = now
                    s.add(
                        WorkOrderHistory(
                            work_order_id=order.id,
                            at=now,
                            actor=SYSTEM,
                            action=f"escalated_{reason}",
                            field="escalation_level",
                            old=str(old),
                            new=str(order.escalation_level),
                        )
                    )
                    events.append(
                        WorkOrderEscalated(
                            work_order_id=order.id,
                            department=order.department,
                            level=order.escalation_level,
                            level_name=self.policy.levels[order.escalation_level],
                            reason=reason,
                            sla_due_at=order.sla_due_at,
                            at=now,
                        )
                    )
                order.updated_at = now
            await s.commit()
        return len(orders), events

    def start(self) -> None:
        self.task.start()

    async def stop(self) -> None:
        await self.task.stop()
