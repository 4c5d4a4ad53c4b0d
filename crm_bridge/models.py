"""Customers and what belongs to them: phone numbers, addresses, grade history and grading runs.

``customers.phone`` is the copy of the customer's primary number (kept for the desk's card and for
older readers); ``customer_phones`` holds every number, primary included, each unique across all
customers, so a caller ID finds its customer with one look-up on ``uq_customer_phones_number``.
"""

from __future__ import annotations

import enum
from datetime import datetime
from decimal import Decimal

from sqlalchemy import (
    Boolean,
    DateTime,
    Enum,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    false,
    func,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from hotline.db import Base


class Tier(enum.StrEnum):
    """Customer grade by monthly volume (walk-in 1-3 parcels … key account 30+), lowest first."""

    walk_in = "walk_in"
    regular = "regular"
    mid = "mid"
    vip = "vip"
    key_account = "key_account"


TIER_ORDER: tuple[Tier, ...] = tuple(Tier)


class CreditRating(enum.StrEnum):
    good = "good"
    watch = "watch"
    bad = "bad"


class Customer(Base):
    __tablename__ = "customers"
    __table_args__ = (
        Index("ix_customers_name_trgm", "name", postgresql_using="gin", postgresql_ops={"name": "gin_trgm_ops"}),
        Index(
            "ix_customers_company_trgm", "company", postgresql_using="gin", postgresql_ops={"company": "gin_trgm_ops"}
        ),
        Index("ix_customers_tier_id", "tier", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    phone: Mapped[str] = mapped_column(String(32), unique=True)  # the primary number (also in customer_phones)
    tier: Mapped[Tier] = mapped_column(Enum(Tier, name="customer_tier"), default=Tier.walk_in)
    # a supervisor set the tier by hand: grading leaves it until the override is lifted
    tier_manual: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    company: Mapped[str | None] = mapped_column(String(200))
    city: Mapped[str | None] = mapped_column(String(80))
    language: Mapped[str | None] = mapped_column(String(16))  # BCP 47 tag: zh, zh-HK, en …
    agreement: Mapped[str | None] = mapped_column(String(40), unique=True)  # contract number
    home_office: Mapped[str | None] = mapped_column(String(16))  # station code (shipments' stations)
    dedicated_agent: Mapped[str | None] = mapped_column(String(64))  # agent extension / username
    notes: Mapped[str | None] = mapped_column(Text)
    credit: Mapped[CreditRating] = mapped_column(
        Enum(CreditRating, name="credit_rating"), default=CreditRating.good, server_default=CreditRating.good.value
    )
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )

    phones: Mapped[list[CustomerPhone]] = relationship(
        back_populates="customer", cascade="all, delete-orphan", order_by="CustomerPhone.id"
    )
    addresses: Mapped[list[CustomerAddress]] = relationship(
        back_populates="customer", cascade="all, delete-orphan", order_by="CustomerAddress.id"
    )
    grades: Mapped[list[GradeChange]] = relationship(cascade="all, delete-orphan", order_by="GradeChange.id")


class CustomerPhone(Base):
    """One of a customer's numbers, E.164 (``crm_bridge.phones.normalise``), unique across customers."""

    __tablename__ = "customer_phones"
    __table_args__ = (
        Index("ix_customer_phones_customer_id", "customer_id"),
        # at most one primary number per customer
        Index("uq_customer_phones_primary", "customer_id", unique=True, postgresql_where=text("is_primary")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    number: Mapped[str] = mapped_column(String(32), unique=True)
    is_primary: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    label: Mapped[str | None] = mapped_column(String(32))  # mobile, office, home …

    customer: Mapped[Customer] = relationship(back_populates="phones")


class CustomerAddress(Base):
    __tablename__ = "customer_addresses"
    __table_args__ = (Index("ix_customer_addresses_customer_id", "customer_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    label: Mapped[str | None] = mapped_column(String(40))  # office, warehouse, home …
    text: Mapped[str] = mapped_column(String(300))
    postal_code: Mapped[str | None] = mapped_column(String(16))
    city: Mapped[str | None] = mapped_column(String(80))

    customer: Mapped[Customer] = relationship(back_populates="addresses")


class GradeChange(Base):
    """A change of a customer's tier: by grading (``by = "schedule"``), on demand or by hand (username)."""

    __tablename__ = "customer_grade_history"
    __table_args__ = (Index("ix_customer_grade_history_customer_at", "customer_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    old_tier: Mapped[Tier | None] = mapped_column(Enum(Tier, name="customer_tier"))
    new_tier: Mapped[Tier] = mapped_column(Enum(Tier, name="customer_tier"))
    reason: Mapped[str] = mapped_column(String(300))
    by: Mapped[str] = mapped_column(String(64))
    manual: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    parcels: Mapped[int | None] = mapped_column(Integer)
    revenue: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class GradingRun(Base):
    """One pass of grading over all customers (scheduled or asked for): when it is due again, and what it did."""

    __tablename__ = "customer_grading_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    by: Mapped[str] = mapped_column(String(64))
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    customers: Mapped[int] = mapped_column(Integer, default=0)
    changed: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(String(300))
