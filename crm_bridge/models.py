from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import DateTime, Enum, ForeignKey, Index, String, Text, func
from sqlalchemy.orm import Mapped, mapped_column, relationship

from hotline.db import Base


class Tier(enum.StrEnum):
    """Customer grade by monthly volume (walk-in 1-3 parcels … key account 30+)."""

    walk_in = "walk_in"
    regular = "regular"
    mid = "mid"
    vip = "vip"
    key_account = "key_account"


class TicketStatus(enum.StrEnum):
    open = "open"
    in_progress = "in_progress"
    resolved = "resolved"
    closed = "closed"


OPEN_STATUSES = (TicketStatus.open, TicketStatus.in_progress)


class Customer(Base):
    __tablename__ = "customers"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    phone: Mapped[str] = mapped_column(String(32), unique=True)
    tier: Mapped[Tier] = mapped_column(Enum(Tier, name="customer_tier"), default=Tier.walk_in)
    company: Mapped[str | None] = mapped_column(String(200))
    city: Mapped[str | None] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    tickets: Mapped[list[Ticket]] = relationship(back_populates="customer")


class Ticket(Base):
    """A work order: pickup booking, delivery urging, inquiry, complaint, claim, praise."""

    __tablename__ = "tickets"
    __table_args__ = (Index("ix_tickets_customer_status", "customer_id", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))
    subject: Mapped[str] = mapped_column(Text)
    waybill: Mapped[str | None] = mapped_column(String(32))
    status: Mapped[TicketStatus] = mapped_column(Enum(TicketStatus, name="ticket_status"), default=TicketStatus.open)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    customer: Mapped[Customer] = relationship(back_populates="tickets")
