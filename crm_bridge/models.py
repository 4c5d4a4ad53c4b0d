from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import DateTime, Enum, String, func
from sqlalchemy.orm import Mapped, mapped_column

from hotline.db import Base


class Tier(enum.StrEnum):
    """Customer grade by monthly volume (walk-in 1-3 parcels … key account 30+)."""

    walk_in = "walk_in"
    regular = "regular"
    mid = "mid"
    vip = "vip"
    key_account = "key_account"


class Customer(Base):
    __tablename__ = "customers"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    phone: Mapped[str] = mapped_column(String(32), unique=True)
    tier: Mapped[Tier] = mapped_column(Enum(Tier, name="customer_tier"), default=Tier.walk_in)
    company: Mapped[str | None] = mapped_column(String(200))
    city: Mapped[str | None] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
