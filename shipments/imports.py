"""CSV import of shipments and of scan events: every row checked, then all rows stored or none.

Parsing and checking a file is CPU work, done in a thread (the event loop keeps serving calls); the checks
that need the database (waybills already there, customers and stations that exist) run in the same
transaction as the insert, which is a COPY. A file with any rejected row imports nothing and returns every
rejected row with its line and reason, so it can be fixed and sent again whole.

Shipments: ``waybill, customer_id, sender_name, sender_phone, sender_address, receiver_name,
receiver_phone, receiver_address, origin_city, origin_postal_code, destination_city,
destination_postal_code, service, weight_kg, charge, created_at`` (``customer_id``, phones, addresses,
postal codes and ``created_at`` may be empty; times are ISO 8601 with their offset, e.g.
``2026-11-20T09:30:00+08:00``).

Scans: ``waybill, kind, exception, place, station_code, at, note`` (the shipments must exist, in the
database; ``exception`` only on ``kind=exception``). The scanned shipments' statuses are recomputed from all
their scans.
"""

from __future__ import annotations

import asyncio
import csv
import io
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import String, select, text
from sqlalchemy.ext.asyncio import AsyncConnection

from crm_bridge.phones import normalise as normalise_phone
from hotline.db import Database
from shipments.errors import InvalidWaybill
from shipments.models import ScanEvent, Shipment, Station
from shipments.schemas import ImportReject, ImportReport
from shipments.status import ExceptionKind, Scan, ScanKind, Service, ShipmentStatus, summarise
from shipments.waybills import validate

SHIPMENT_COLUMNS = (
    "waybill",
    "customer_id",
    "sender_name",
    "sender_phone",
    "sender_address",
    "receiver_name",
    "receiver_phone",
    "receiver_address",
    "origin_city",
    "origin_postal_code",
    "destination_city",
    "destination_postal_code",
    "service",
    "weight_kg",
    "charge",
    "created_at",
)
SCAN_COLUMNS = ("waybill", "kind", "exception", "place", "station_code", "at", "note")
REQUIRED = frozenset({"waybill", "sender_name", "receiver_name", "origin_city", "destination_city", "service"})
MAX_REJECTS = 1000  # a file wrong throughout is reported by its first thousand faults


class RowError(ValueError):
    pass


def _limits(table: Any) -> dict[str, int]:
    return {c.name: c.type.length for c in table.columns if isinstance(c.type, String) and c.type.length}


SHIPMENT_LIMITS = _limits(Shipment.__table__) | {"customer_id": 12}
SCAN_LIMITS = _limits(ScanEvent.__table__)


def _text(row: dict[str, str], name: str, limits: dict[str, int]) -> str | None:
    value = (row.get(name) or "").strip()
    if not value:
        if name in REQUIRED:
            raise RowError(f"{name} is missing")
        return None
    if name in limits and len(value) > limits[name]:
        raise RowError(f"{name} is longer than {limits[name]} characters")
    return value


def _time(value: str | None, name: str) -> datetime | None:
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise RowError(f"bad date in {name}: {value!r} (ISO 8601, e.g. 2026-11-20T09:30:00+08:00)") from None
    if parsed.tzinfo is None:
        raise RowError(f"bad date in {name}: {value!r} has no time-zone offset (e.g. +08:00)")
    return parsed


def _amount(value: str | None, name: str, places: int, ceiling: Decimal) -> Decimal:
    try:
        amount = Decimal(value or "")
    except InvalidOperation:
        raise RowError(f"bad number in {name}: {value!r}") from None
    if not amount.is_finite() or amount < 0 or amount >= ceiling:
        raise RowError(f"{name} out of range: {value!r}")
    return round(amount, places)


def _enum(kind: type[Any], value: str | None, name: str) -> Any:
    try:
        return kind((value or "").strip().lower())
    except ValueError:
        raise RowError(f"unknown {name} {value!r} (one of {', '.join(k.value for k in kind)})") from None


def _waybill(value: str | None) -> str:
    try:
        return validate(value)
    except InvalidWaybill as e:
        raise RowError(f"bad waybill: {e.message}") from None


@dataclass
class Parsed:
    """A file's good rows (line, record) and rejected rows."""

    rows: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    rejected: list[ImportReject] = field(default_factory=list)

    def reject(self, line: int, reason: str) -> None:
        if len(self.rejected) < MAX_REJECTS:
            self.rejected.append(ImportReject(line=line, reason=reason))


def _read(
    content: str, columns: tuple[str, ...], parse: Callable[[dict[str, str]], dict[str, Any]], unique: bool
) -> Parsed:
    """Every row parsed (``unique``: a waybill may appear once in the file)."""
    parsed = Parsed()
    reader = csv.DictReader(io.StringIO(content))
    missing = [c for c in columns if c not in (reader.fieldnames or [])]
    if missing:
        parsed.reject(1, f"header lacks the column(s) {', '.join(missing)}")
        return parsed
    seen: dict[str, int] = {}
    for row in reader:
        line = reader.line_num
        try:
            record = parse(row)
        except RowError as e:
            parsed.reject(line, str(e))
            continue
        if unique:
            first = seen.setdefault(record["waybill"], line)
            if first != line:
                parsed.reject(line, f"waybill {record['waybill']} already on line {first}")
                continue
        parsed.rows.append((line, record))
    return parsed


def parse_shipment(row: dict[str, str], now: datetime) -> dict[str, Any]:
    def t(name: str) -> str | None:
        return _text(row, name, SHIPMENT_LIMITS)

    customer = t("customer_id")
    if customer is not None and not customer.isdigit():
        raise RowError(f"bad customer_id {customer!r}")
    phones = {}
    for name in ("sender_phone", "receiver_phone"):
        raw = t(name)
        phones[name] = None if raw is None else normalise_phone(raw)
        if raw is not None and phones[name] is None:
            raise RowError(f"bad phone number in {name}: {raw!r}")
    return {
        "waybill": _waybill(row.get("waybill")),
        "sender_customer_id": None if customer is None else int(customer),
        "sender_name": t("sender_name"),
        "sender_phone": phones["sender_phone"],
        "sender_address": t("sender_address"),
        "receiver_name": t("receiver_name"),
        "receiver_phone": phones["receiver_phone"],
        "receiver_address": t("receiver_address"),
        "origin_city": t("origin_city"),
        "origin_postal_code": t("origin_postal_code"),
        "destination_city": t("destination_city"),
        "destination_postal_code": t("destination_postal_code"),
        "service": _enum(Service, t("service"), "service").value,
        "weight_kg": _amount(t("weight_kg"), "weight_kg", 3, Decimal("100000")),
        "charge": _amount(t("charge"), "charge", 2, Decimal("100000000")),
        "created_at": _time(t("created_at"), "created_at") or now,
        "status": ShipmentStatus.created.value,
    }


def parse_scan(row: dict[str, str]) -> dict[str, Any]:
    def t(name: str) -> str | None:
        return _text(row, name, SCAN_LIMITS)

    kind = _enum(ScanKind, t("kind"), "scan kind")
    raw_exception = t("exception")
    exception = None if raw_exception is None else _enum(ExceptionKind, raw_exception, "exception")
    if (kind is ScanKind.exception) != (exception is not None):
        raise RowError("an exception scan names its exception, and only an exception scan does")
    place = t("place")
    if place is None:
        raise RowError("place is missing")
    at = _time(t("at"), "at")
    if at is None:
        raise RowError("at (the scan time) is missing")
    station = t("station_code")
    return {
        "waybill": _waybill(row.get("waybill")),
        "kind": kind.value,
        "exception": None if exception is None else exception.value,
        "place": place,
        "station_code": None if station is None else station.upper(),
        "at": at,
        "note": t("note"),
    }


async def _driver(conn: AsyncConnection) -> Any:
    """The asyncpg connection under ``conn``, inside ``conn``'s transaction (already begun by a statement)."""
    return (await conn.get_raw_connection()).driver_connection


class ShipmentImporter:
    def __init__(self, db: Database, clock: Callable[[], datetime]) -> None:
        self.db = db
        self.clock = clock

    async def shipments(self, content: str) -> ImportReport:
        now = self.clock()
        parsed = await asyncio.to_thread(_read, content, SHIPMENT_COLUMNS, lambda row: parse_shipment(row, now), True)
        async with self.db.engine.begin() as conn:
            waybills = [r["waybill"] for _, r in parsed.rows]
            existing = set(
                (await conn.execute(select(Shipment.waybill).where(Shipment.waybill.in_(waybills)))).scalars()
            )
            wanted = sorted({r["sender_customer_id"] for _, r in parsed.rows} - {None})
            known = set(
                (await conn.execute(text("SELECT id FROM customers WHERE id = ANY(:ids)"), {"ids": wanted})).scalars()
            )
            good = []
            for line, record in parsed.rows:
                if record["waybill"] in existing:
                    parsed.reject(line, f"waybill {record['waybill']} already exists")
                elif record["sender_customer_id"] is not None and record["sender_customer_id"] not in known:
                    parsed.reject(line, f"unknown customer {record['sender_customer_id']}")
                else:
                    good.append(record)
            if parsed.rejected:
                return _report(0, parsed)
            if good:
                columns = list(good[0])
                await (await _driver(conn)).copy_records_to_table(
                    "shipments", records=[tuple(r[c] for c in columns) for r in good], columns=columns
                )
        return _report(len(good), parsed)

    async def scans(self, content: str, by: str | None) -> ImportReport:
        parsed = await asyncio.to_thread(_read, content, SCAN_COLUMNS, parse_scan, False)
        async with self.db.engine.begin() as conn:
            waybills = sorted({r["waybill"] for _, r in parsed.rows})
            found = await conn.execute(select(Shipment.waybill, Shipment.id).where(Shipment.waybill.in_(waybills)))
            ids = {waybill: shipment_id for waybill, shipment_id in found}
            codes = sorted({r["station_code"] for _, r in parsed.rows} - {None})
            stations = set((await conn.execute(select(Station.code).where(Station.code.in_(codes)))).scalars())
            good = []
            for line, record in parsed.rows:
                if record["waybill"] not in ids:
                    parsed.reject(line, f"unknown waybill {record['waybill']}")
                elif record["station_code"] is not None and record["station_code"] not in stations:
                    parsed.reject(line, f"unknown station {record['station_code']}")
                else:
                    good.append(record)
            if parsed.rejected:
                return _report(0, parsed)
            if good:
                driver = await _driver(conn)
                columns = ["shipment_id", "kind", "exception", "place", "station_code", "at", "note", "recorded_by"]
                await driver.copy_records_to_table(
                    "scan_events",
                    records=[
                        (
                            ids[r["waybill"]],
                            r["kind"],
                            r["exception"],
                            r["place"],
                            r["station_code"],
                            r["at"],
                            r["note"],
                            by,
                        )
                        for r in good
                    ],
                    columns=columns,
                )
                await _recompute(conn, sorted({ids[r["waybill"]] for r in good}))
        return _report(len(good), parsed)


async def _recompute(conn: AsyncConnection, shipment_ids: list[int]) -> None:
    """The status columns of ``shipment_ids`` from all their scans, in one UPDATE."""
    scans: dict[int, list[Scan]] = {i: [] for i in shipment_ids}
    rows = await conn.execute(
        select(
            ScanEvent.shipment_id, ScanEvent.kind, ScanEvent.at, ScanEvent.place, ScanEvent.exception, ScanEvent.id
        ).where(ScanEvent.shipment_id.in_(shipment_ids))
    )
    for shipment_id, kind, at, place, exception, sequence in rows:
        scans[shipment_id].append(Scan(kind, at, place, exception, sequence))
    summaries = {i: summarise(s) for i, s in scans.items()}

    def value(x: Any) -> Any:
        return None if x is None else getattr(x, "value", x)

    await (await _driver(conn)).execute(
        """
        UPDATE shipments s SET status = u.status::shipment_status, last_scan_kind = u.kind::scan_kind,
               last_scan_place = u.place, last_scan_at = u.at, exception = u.exception::shipment_exception
          FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::timestamptz[], $6::text[])
               AS u(id, status, kind, place, at, exception)
         WHERE s.id = u.id
        """,
        list(summaries),
        [value(s.status) for s in summaries.values()],
        [value(s.last_scan_kind) for s in summaries.values()],
        [s.last_scan_place for s in summaries.values()],
        [s.last_scan_at for s in summaries.values()],
        [value(s.exception) for s in summaries.values()],
    )


def _report(imported: int, parsed: Parsed) -> ImportReport:
    return ImportReport(imported=imported, rejected=sorted(parsed.rejected, key=lambda r: r.line))
