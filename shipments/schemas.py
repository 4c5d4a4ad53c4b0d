"""API and interface shapes of shipments and stations."""

from __future__ import annotations

from datetime import date, datetime, time
from decimal import Decimal

from pydantic import BaseModel, Field

from shipments.status import ExceptionKind, ScanKind, Service, ShipmentStatus


class ShipmentSummary(BaseModel):
    """A shipment in a list or on the screen-pop: where it is, and whether something went wrong."""

    waybill: str
    status: ShipmentStatus
    service: Service
    origin: str  # city
    destination: str  # city
    created_at: datetime
    last_scan_kind: ScanKind | None = None
    last_scan_place: str | None = None
    last_scan_at: datetime | None = None
    exception: ExceptionKind | None = None


class ScanView(BaseModel):
    kind: ScanKind
    exception: ExceptionKind | None = None
    place: str
    station_code: str | None = None
    at: datetime
    note: str | None = None


class Party(BaseModel):
    name: str
    phone: str | None = None
    address: str | None = None
    city: str
    postal_code: str | None = None


class Tracking(ShipmentSummary):
    """A waybill tracked: the summary, both parties and every scan, oldest first."""

    sender_customer_id: int | None = None
    sender: Party
    receiver: Party
    weight_kg: Decimal
    charge: Decimal
    scans: list[ScanView]


class Volume(BaseModel):
    parcels: int = 0
    revenue: Decimal = Decimal("0")


class ShipmentPage(BaseModel):
    items: list[ShipmentSummary]
    next_offset: int | None = Field(None, description="the offset of the next page; null on the last one")


class NewScan(BaseModel):
    kind: ScanKind
    exception: ExceptionKind | None = Field(None, description="required for kind=exception, refused otherwise")
    place: str = Field(min_length=1, max_length=120)
    station_code: str | None = Field(None, max_length=16)
    at: datetime = Field(description="when the parcel was scanned (aware); may be older than scans already known")
    note: str | None = Field(None, max_length=2000)


class StationView(BaseModel):
    code: str
    name: str
    city: str
    address: str
    phone: str | None = None


class OpeningState(BaseModel):
    open: bool
    closes_at: datetime | None = None
    next_open: datetime | None = None


class HoursView(BaseModel):
    weekday: int = Field(description="0 = Monday")
    opens: time
    closes: time


class HolidayView(BaseModel):
    day: date
    opens: time | None = None
    closes: time | None = None
    note: str | None = None


class StationDetail(StationView):
    timezone: str
    hours: list[HoursView]
    holidays: list[HolidayView]
    postal_codes: list[str]


class ServingStation(BaseModel):
    """The station serving a postal code and whether it is open now."""

    postal_code: str
    station: StationView
    opening: OpeningState


class ImportReject(BaseModel):
    line: int
    reason: str


class ImportReport(BaseModel):
    """All or nothing: ``imported`` is 0 whenever ``rejected`` is not empty."""

    imported: int
    rejected: list[ImportReject]
