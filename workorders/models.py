"""Work-order tables: the orders, their history, their links to calls and recordings, satisfaction revisits.

Statuses, types and kinds are short strings checked by the code (workorders.states), so adding a kind is no
schema change. Every time here comes from the service's clock, never from the database's ``now()``.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from hotline.db import Base


class WorkOrder(Base):
    __tablename__ = "work_orders"
    __table_args__ = (
        Index("ix_work_orders_customer_id_status", "customer_id", "status"),
        Index("ix_work_orders_department_status", "department", "status"),
        Index("ix_work_orders_waybill", "waybill"),
        Index("ix_work_orders_assignee", "assignee"),
        Index("ix_work_orders_sla_due_at", "sla_due_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    type: Mapped[str] = mapped_column(String(24))
    claim_kind: Mapped[str | None] = mapped_column(String(16))  # claims only: damage, loss, delay, …
    department: Mapped[str] = mapped_column(String(40))
    subject: Mapped[str] = mapped_column(String(300))
    notes: Mapped[str | None] = mapped_column(Text)
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id", ondelete="SET NULL"))
    customer_tier: Mapped[str | None] = mapped_column(String(16))  # the tier when it was opened (its SLA's)
    waybill: Mapped[str | None] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(20))
    assignee: Mapped[str | None] = mapped_column(String(64))  # a username
    opened_by: Mapped[str] = mapped_column(String(64))
    opened_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    first_call_id: Mapped[str | None] = mapped_column(String(64))  # the call during which it was opened
    sla_seconds: Mapped[int] = mapped_column(Integer)
    sla_near_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    sla_due_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    sla_stopped_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))  # clock standing still
    escalation_level: Mapped[int] = mapped_column(Integer, default=0)
    escalated_near_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    escalated_breached_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    first_resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    reopen_count: Mapped[int] = mapped_column(Integer, default=0)


class WorkOrderHistory(Base):
    """Who did what, when: one row per action (opened, escalated, call linked, …) or per field changed."""

    __tablename__ = "work_order_history"
    __table_args__ = (Index("ix_work_order_history_work_order_id", "work_order_id", "id"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    work_order_id: Mapped[int] = mapped_column(ForeignKey("work_orders.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    actor: Mapped[str] = mapped_column(String(64))  # a username, or "system" for the escalation job
    action: Mapped[str] = mapped_column(String(24))
    field: Mapped[str | None] = mapped_column(String(32))
    old: Mapped[str | None] = mapped_column(Text)
    new: Mapped[str | None] = mapped_column(Text)


class WorkOrderCall(Base):
    """A call (cms' interactions.call_id, Asterisk's linkedid) about this work order."""

    __tablename__ = "work_order_calls"
    __table_args__ = (Index("ix_work_order_calls_call_id", "call_id"),)

    work_order_id: Mapped[int] = mapped_column(ForeignKey("work_orders.id", ondelete="CASCADE"), primary_key=True)
    call_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    linked_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    linked_by: Mapped[str] = mapped_column(String(64))


class WorkOrderRecording(Base):
    """A recording (recordings' id) kept as evidence of this work order."""

    __tablename__ = "work_order_recordings"

    work_order_id: Mapped[int] = mapped_column(ForeignKey("work_orders.id", ondelete="CASCADE"), primary_key=True)
    recording_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    linked_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    linked_by: Mapped[str] = mapped_column(String(64))


class Revisit(Base):
    """A satisfaction call-back (回访) due after a work order's resolution, for outbound calling."""

    __tablename__ = "revisits"
    __table_args__ = (Index("ix_revisits_state_due_at", "state", "due_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    work_order_id: Mapped[int] = mapped_column(ForeignKey("work_orders.id", ondelete="CASCADE"), index=True)
    due_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    state: Mapped[str] = mapped_column(String(16))  # scheduled, done, cancelled
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[str] = mapped_column(String(64))
