"""Shipments and their scan events; stations, their hours, holidays and the postal codes they serve."""

from __future__ import annotations

from datetime import date, datetime, time
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    DateTime,
    Enum,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    SmallInteger,
    String,
    Text,
    Time,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column

from hotline.db import Base
from shipments.status import ExceptionKind, ScanKind, Service, ShipmentStatus

DEFAULT_TIMEZONE = "Asia/Shanghai"


class Shipment(Base):
    __tablename__ = "shipments"
    __table_args__ = (
        # "recent shipments of customer X" (the screen-pop) and each customer's volume in a period
        # (grading): both walk this index from one customer's newest row
        Index("ix_shipments_sender_recent", "sender_customer_id", "created_at", "id"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    waybill: Mapped[str] = mapped_column(String(16), unique=True)
    sender_customer_id: Mapped[int | None] = mapped_column(Integer, ForeignKey("customers.id", ondelete="SET NULL"))
    sender_name: Mapped[str] = mapped_column(String(120))
    sender_phone: Mapped[str | None] = mapped_column(String(32))
    sender_address: Mapped[str | None] = mapped_column(String(300))
    receiver_name: Mapped[str] = mapped_column(String(120))
    receiver_phone: Mapped[str | None] = mapped_column(String(32))
    receiver_address: Mapped[str | None] = mapped_column(String(300))
    origin_city: Mapped[str] = mapped_column(String(80))
    origin_postal_code: Mapped[str | None] = mapped_column(String(12))
    destination_city: Mapped[str] = mapped_column(String(80))
    destination_postal_code: Mapped[str | None] = mapped_column(String(12))
    service: Mapped[Service] = mapped_column(Enum(Service, name="shipment_service"))
    weight_kg: Mapped[Decimal] = mapped_column(Numeric(8, 3))
    charge: Mapped[Decimal] = mapped_column(Numeric(10, 2))  # revenue, CNY
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    # denormalised from the scan events (shipments.status.summarise), for reads without the events
    status: Mapped[ShipmentStatus] = mapped_column(
        Enum(ShipmentStatus, name="shipment_status"), default=ShipmentStatus.created
    )
    last_scan_kind: Mapped[ScanKind | None] = mapped_column(Enum(ScanKind, name="scan_kind"))
    last_scan_place: Mapped[str | None] = mapped_column(String(120))
    last_scan_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    exception: Mapped[ExceptionKind | None] = mapped_column(Enum(ExceptionKind, name="shipment_exception"))


class ScanEvent(Base):
    __tablename__ = "scan_events"
    __table_args__ = (
        Index("ix_scan_events_shipment_at", "shipment_id", "at"),
        CheckConstraint("(kind = 'exception') = (exception IS NOT NULL)", name="exception_iff_kind"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    shipment_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("shipments.id", ondelete="CASCADE"))
    kind: Mapped[ScanKind] = mapped_column(Enum(ScanKind, name="scan_kind"))
    exception: Mapped[ExceptionKind | None] = mapped_column(Enum(ExceptionKind, name="shipment_exception"))
    place: Mapped[str] = mapped_column(String(120))
    station_code: Mapped[str | None] = mapped_column(String(16), ForeignKey("stations.code"))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    note: Mapped[str | None] = mapped_column(Text)
    recorded_by: Mapped[str | None] = mapped_column(String(64))
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class Station(Base):
    __tablename__ = "stations"

    code: Mapped[str] = mapped_column(String(16), primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    city: Mapped[str] = mapped_column(String(80))
    address: Mapped[str] = mapped_column(String(300))
    phone: Mapped[str | None] = mapped_column(String(32))
    timezone: Mapped[str] = mapped_column(String(64), default=DEFAULT_TIMEZONE, server_default=DEFAULT_TIMEZONE)


class StationHours(Base):
    """One opening interval on a weekday (0 = Monday); a weekday without any is closed, two make a lunch break.
    An interval ends on its own day (23:59 at the latest): a night shift is two intervals, one each side of midnight."""

    __tablename__ = "station_hours"
    __table_args__ = (
        CheckConstraint("weekday BETWEEN 0 AND 6", name="weekday_range"),
        CheckConstraint("opens < closes", name="opens_before_closes"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    station_code: Mapped[str] = mapped_column(String(16), ForeignKey("stations.code", ondelete="CASCADE"), index=True)
    weekday: Mapped[int] = mapped_column(SmallInteger)
    opens: Mapped[time] = mapped_column(Time)
    closes: Mapped[time] = mapped_column(Time)


class StationHoliday(Base):
    """A date with its own hours: closed all day (no times), or the intervals given (one row each)."""

    __tablename__ = "station_holidays"
    __table_args__ = (
        Index("ix_station_holidays_station_day", "station_code", "day"),
        CheckConstraint("(opens IS NULL) = (closes IS NULL) AND (opens IS NULL OR opens < closes)", name="times"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    station_code: Mapped[str] = mapped_column(String(16), ForeignKey("stations.code", ondelete="CASCADE"))
    day: Mapped[date] = mapped_column(Date)
    opens: Mapped[time | None] = mapped_column(Time)
    closes: Mapped[time | None] = mapped_column(Time)
    note: Mapped[str | None] = mapped_column(String(120))


class PostalArea(Base):
    """A postal code, or a prefix of one (``1000`` covers ``100000``–``100099``), and the station serving it:
    the longest matching prefix wins."""

    __tablename__ = "station_postal_codes"

    postal_code: Mapped[str] = mapped_column(String(12), primary_key=True)
    station_code: Mapped[str] = mapped_column(String(16), ForeignKey("stations.code", ondelete="CASCADE"), index=True)
