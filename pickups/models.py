"""Pickup orders and every change of their state."""

from __future__ import annotations

import enum
from datetime import datetime
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    DateTime,
    Enum,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from hotline.db import Base


class PickupState(enum.StrEnum):
    booked = "booked"  # taken; waiting for a station (none serves the postal code, or the look-up failed)
    assigned = "assigned"  # the serving station has it
    picked_up = "picked_up"
    failed = "failed"  # the courier came and could not collect (may be booked again)
    cancelled = "cancelled"


class Pickup(Base):
    __tablename__ = "pickups"
    __table_args__ = (
        CheckConstraint("pieces > 0", name="pieces_positive"),
        CheckConstraint("weight_kg > 0", name="weight_positive"),
        CheckConstraint("close_at > ready_at", name="window_order"),
        Index("ix_pickups_station_state_ready", "station_code", "state", "ready_at"),
        Index("ix_pickups_state_ready", "state", "ready_at"),
        Index("ix_pickups_booked_by_ready", "booked_by", "ready_at"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    reference: Mapped[str] = mapped_column(String(8), unique=True)
    state: Mapped[PickupState] = mapped_column(Enum(PickupState, name="pickup_state"))
    name: Mapped[str] = mapped_column(String(120))
    phone: Mapped[str] = mapped_column(String(32), index=True)
    address: Mapped[str] = mapped_column(String(300))
    postal_code: Mapped[str] = mapped_column(String(12))
    pieces: Mapped[int] = mapped_column(Integer)
    weight_kg: Mapped[Decimal] = mapped_column(Numeric(9, 2))
    goods: Mapped[str] = mapped_column(String(200))
    destination: Mapped[str] = mapped_column(String(200))
    ready_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    close_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id", ondelete="SET NULL"), index=True)
    station_code: Mapped[str | None] = mapped_column(String(16))
    unassigned_reason: Mapped[str | None] = mapped_column(String(300))
    booked_by: Mapped[str] = mapped_column(String(64))
    rebooks: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    history: Mapped[list[PickupChange]] = relationship(
        back_populates="pickup", order_by="PickupChange.id", cascade="all, delete-orphan"
    )


class PickupChange(Base):
    """One line of a pickup's history: the booking (from_state None) and every change after it."""

    __tablename__ = "pickup_history"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    pickup_id: Mapped[int] = mapped_column(ForeignKey("pickups.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    by: Mapped[str] = mapped_column(String(64))
    from_state: Mapped[PickupState | None] = mapped_column(Enum(PickupState, name="pickup_state"))
    to_state: Mapped[PickupState] = mapped_column(Enum(PickupState, name="pickup_state"))
    reason: Mapped[str | None] = mapped_column(String(300))

    pickup: Mapped[Pickup] = relationship(back_populates="history")
