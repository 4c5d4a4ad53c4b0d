"""Shipments: tracking a waybill, a customer's recent shipments and volumes, searching, recording scans."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from sqlalchemy import bindparam, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.bus import EventBus
from hotline.db import Database
from hotline.errors import DatabaseUnavailable
from shipments.errors import InvalidScan, ShipmentNotFound
from shipments.events import ShipmentDelivered, ShipmentExceptionRecorded
from shipments.models import ScanEvent, Shipment, Station
from shipments.schemas import NewScan, Party, ScanView, ShipmentPage, ShipmentSummary, Tracking, Volume
from shipments.status import ExceptionKind, Scan, ScanKind, Service, ShipmentStatus, Summary, summarise
from shipments.waybills import validate

VOLUME_BATCH = 1000  # customer ids per grouped query

# a screen-pop's read, on every call with a known customer: only the columns a summary shows, in a statement
# built once (building it, and an ORM object per row, cost more CPU than PostgreSQL's answer)
RECENT_FOR_CUSTOMER = (
    select(
        Shipment.waybill,
        Shipment.status,
        Shipment.service,
        Shipment.origin_city,
        Shipment.destination_city,
        Shipment.created_at,
        Shipment.last_scan_kind,
        Shipment.last_scan_place,
        Shipment.last_scan_at,
        Shipment.exception,
    )
    .where(Shipment.sender_customer_id == bindparam("customer_id"))
    .order_by(Shipment.created_at.desc(), Shipment.id.desc())
    .limit(bindparam("limit"))
)


@dataclass(frozen=True)
class ShipmentFilter:
    customer_id: int | None = None
    status: ShipmentStatus | None = None
    exception: ExceptionKind | None = None
    service: Service | None = None
    created_from: datetime | None = None
    created_until: datetime | None = None


class SummaryFields(Protocol):
    """What a summary reads: a ``Shipment``, or a row of ``RECENT_FOR_CUSTOMER``'s columns."""

    @property
    def waybill(self) -> str: ...
    @property
    def status(self) -> ShipmentStatus: ...
    @property
    def service(self) -> Service: ...
    @property
    def origin_city(self) -> str: ...
    @property
    def destination_city(self) -> str: ...
    @property
    def created_at(self) -> datetime: ...
    @property
    def last_scan_kind(self) -> ScanKind | None: ...
    @property
    def last_scan_place(self) -> str | None: ...
    @property
    def last_scan_at(self) -> datetime | None: ...
    @property
    def exception(self) -> ExceptionKind | None: ...


def summary_of(s: SummaryFields) -> ShipmentSummary:
    return ShipmentSummary(
        waybill=s.waybill,
        status=s.status,
        service=s.service,
        origin=s.origin_city,
        destination=s.destination_city,
        created_at=s.created_at,
        last_scan_kind=s.last_scan_kind,
        last_scan_place=s.last_scan_place,
        last_scan_at=s.last_scan_at,
        exception=s.exception,
    )


def apply_summary(shipment: Shipment, summary: Summary) -> None:
    shipment.status = summary.status
    shipment.last_scan_kind = summary.last_scan_kind
    shipment.last_scan_place = summary.last_scan_place
    shipment.last_scan_at = summary.last_scan_at
    shipment.exception = summary.exception


def scan_of(e: ScanEvent) -> Scan:
    return Scan(kind=e.kind, at=e.at, place=e.place, exception=e.exception, sequence=e.id)


class ShipmentService:
    """Implements ``shipments.interface.ShipmentLookup``; scans are recorded here too."""

    def __init__(self, db: Database, bus: EventBus) -> None:
        self.db = db
        self.bus = bus

    def _check_available(self) -> None:
        if not self.db.available:  # the health probe says the database is away: fail at once
            raise DatabaseUnavailable("the shipments database is not reachable right now")

    async def track(self, waybill: str) -> Tracking | None:
        number = validate(waybill)
        self._check_available()
        async with self.db.session() as s:
            shipment = (await s.execute(select(Shipment).where(Shipment.waybill == number))).scalar_one_or_none()
            if shipment is None:
                return None
            return await self._tracking(s, shipment)

    async def _tracking(self, s: AsyncSession, shipment: Shipment) -> Tracking:
        events = (
            await s.execute(
                select(ScanEvent).where(ScanEvent.shipment_id == shipment.id).order_by(ScanEvent.at, ScanEvent.id)
            )
        ).scalars()
        return Tracking(
            **summary_of(shipment).model_dump(),
            sender_customer_id=shipment.sender_customer_id,
            sender=Party(
                name=shipment.sender_name,
                phone=shipment.sender_phone,
                address=shipment.sender_address,
                city=shipment.origin_city,
                postal_code=shipment.origin_postal_code,
            ),
            receiver=Party(
                name=shipment.receiver_name,
                phone=shipment.receiver_phone,
                address=shipment.receiver_address,
                city=shipment.destination_city,
                postal_code=shipment.destination_postal_code,
            ),
            weight_kg=shipment.weight_kg,
            charge=shipment.charge,
            scans=[
                ScanView(
                    kind=e.kind, exception=e.exception, place=e.place, station_code=e.station_code, at=e.at, note=e.note
                )
                for e in events
            ],
        )

    async def recent_for_customer(self, customer_id: int, limit: int = 5) -> list[ShipmentSummary]:
        self._check_available()
        rows = await self.db.fetch(RECENT_FOR_CUSTOMER, {"customer_id": customer_id, "limit": limit})
        return [summary_of(r) for r in rows]

    async def volumes(self, customer_ids: Sequence[int], since: datetime, until: datetime) -> dict[int, Volume]:
        """One grouped query per batch of ``VOLUME_BATCH`` customers, over the customer/created_at index."""
        self._check_available()
        ids = sorted(set(customer_ids))
        found: dict[int, Volume] = {}
        async with self.db.session() as s:
            for i in range(0, len(ids), VOLUME_BATCH):
                stmt = (
                    select(Shipment.sender_customer_id, func.count(), func.coalesce(func.sum(Shipment.charge), 0))
                    .where(
                        Shipment.sender_customer_id.in_(ids[i : i + VOLUME_BATCH]),
                        Shipment.created_at >= since,
                        Shipment.created_at < until,
                    )
                    .group_by(Shipment.sender_customer_id)
                )
                for customer_id, parcels, revenue in await s.execute(stmt):
                    if customer_id is not None:  # a nullable column, though the filter keeps only the ids asked for
                        found[customer_id] = Volume(parcels=parcels, revenue=revenue)
        return found

    async def search(self, where: ShipmentFilter, offset: int = 0, limit: int = 50) -> ShipmentPage:
        """Newest first; one row more than asked tells whether another page follows (no count over millions)."""
        stmt = select(Shipment).order_by(Shipment.created_at.desc(), Shipment.id.desc())
        conditions = {
            Shipment.sender_customer_id: where.customer_id,
            Shipment.status: where.status,
            Shipment.exception: where.exception,
            Shipment.service: where.service,
        }
        for column, value in conditions.items():
            if value is not None:
                stmt = stmt.where(column == value)
        if where.created_from is not None:
            stmt = stmt.where(Shipment.created_at >= where.created_from)
        if where.created_until is not None:
            stmt = stmt.where(Shipment.created_at < where.created_until)
        async with self.db.session() as s:
            rows = list((await s.execute(stmt.offset(offset).limit(limit + 1))).scalars())
        more = len(rows) > limit
        return ShipmentPage(items=[summary_of(r) for r in rows[:limit]], next_offset=offset + limit if more else None)

    async def record_scan(self, waybill: str, scan: NewScan, by: str | None) -> Tracking:
        """Store the scan and recompute the shipment's status from all its scans, under the shipment's row
        lock (two scans of one parcel at once both count); publishes the exception or delivery."""
        number = validate(waybill)
        if (scan.kind is ScanKind.exception) != (scan.exception is not None):
            raise InvalidScan("an exception scan names its exception kind, and only an exception scan does")
        if scan.at.tzinfo is None:
            raise InvalidScan("the scan time needs its time zone")
        async with self.db.session() as s, s.begin():
            shipment = (
                await s.execute(select(Shipment).where(Shipment.waybill == number).with_for_update())
            ).scalar_one_or_none()
            if shipment is None:
                raise ShipmentNotFound(f"no shipment {number}")
            if scan.station_code is not None and await s.get(Station, scan.station_code) is None:
                raise InvalidScan(f"no station {scan.station_code}")
            s.add(
                ScanEvent(
                    shipment_id=shipment.id,
                    kind=scan.kind,
                    exception=scan.exception,
                    place=scan.place,
                    station_code=scan.station_code,
                    at=scan.at,
                    note=scan.note,
                    recorded_by=by,
                )
            )
            await s.flush()
            events = (await s.execute(select(ScanEvent).where(ScanEvent.shipment_id == shipment.id))).scalars()
            apply_summary(shipment, summarise(scan_of(e) for e in events))
            await s.flush()
            tracking = await self._tracking(s, shipment)
        if scan.exception is not None:
            self.bus.publish(
                ShipmentExceptionRecorded(
                    waybill=number,
                    exception=scan.exception.value,
                    place=scan.place,
                    station_code=scan.station_code,
                    at=scan.at,
                    sender_customer_id=tracking.sender_customer_id,
                    recorded_by=by,
                )
            )
        elif scan.kind is ScanKind.delivered:
            self.bus.publish(
                ShipmentDelivered(
                    waybill=number, place=scan.place, at=scan.at, sender_customer_id=tracking.sender_customer_id
                )
            )
        return tracking
