"""What the work-order desk tells the rest of the system (its public contract)."""

from __future__ import annotations

from datetime import datetime

from hotline.events import Event


class WorkOrderOpened(Event):
    """A work order was opened (on a call, from the desk, or by the IVR)."""

    work_order_id: int
    type: str
    claim_kind: str | None = None
    department: str
    customer_id: int | None = None
    waybill: str | None = None
    subject: str
    status: str
    call_id: str | None = None
    by: str
    sla_due_at: datetime
    escalation_level: int
    at: datetime


class WorkOrderChanged(Event):
    """Fields of a work order changed (status, assignee, notes) or a call was linked; ``changes``: field → new."""

    work_order_id: int
    type: str
    customer_id: int | None = None
    waybill: str | None = None
    subject: str
    by: str
    status: str
    changes: dict[str, str | None]
    at: datetime


class WorkOrderEscalated(Event):
    """A work order went up one escalation level because its SLA is near or breached."""

    work_order_id: int
    department: str
    level: int
    level_name: str
    reason: str  # near, breached
    sla_due_at: datetime
    at: datetime


class RevisitScheduled(Event):
    """A satisfaction revisit (call-back) of a resolved work order is due at ``due_at``."""

    revisit_id: int
    work_order_id: int
    customer_id: int | None = None
    due_at: datetime
    by: str
