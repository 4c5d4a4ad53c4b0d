"""Shipments over real PostgreSQL: tracking, scans out of order, volumes, search, stations, demo data."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, text

from hotline.auth import Argon2Cost, Passwords
from hotline.bus import EventBus
from hotline.db import Database
from hotline.demo import load_demo_data
from shipments.errors import InvalidScan, InvalidWaybill, ShipmentNotFound, StationNotFound
from shipments.events import ShipmentDelivered, ShipmentExceptionRecorded
from shipments.models import Shipment
from shipments.schemas import NewScan
from shipments.services.stations import StationDirectory
from shipments.services.tracking import ShipmentFilter, ShipmentService
from shipments.status import ExceptionKind, ScanKind, Service, ShipmentStatus
from shipments.waybills import domestic

SH = ZoneInfo("Asia/Shanghai")
CHEAP = Passwords(Argon2Cost(time_cost=1, memory_cost=8192))


@pytest.fixture
async def demo(db: Database) -> Database:
    await load_demo_data(db, CHEAP)
    return db


async def _customer(db: Database, phone: str) -> int:
    async with db.session() as s:
        return int((await s.execute(text("SELECT id FROM customers WHERE phone = :p"), {"p": phone})).scalar_one())


async def test_demo_shipments_and_their_status(demo: Database) -> None:
    service = ShipmentService(demo, EventBus())
    zhang = await _customer(demo, "+8613800138000")
    recent = await service.recent_for_customer(zhang)
    assert [s.waybill for s in recent] == ["7700000000024", "7700000000032", "7700000000016"]  # newest first
    by_waybill = {s.waybill: s for s in recent}
    assert by_waybill["7700000000016"].status is ShipmentStatus.delivered
    assert by_waybill["7700000000024"].status is ShipmentStatus.in_transit
    assert by_waybill["7700000000024"].last_scan_place == "Beijing hub"
    assert by_waybill["7700000000032"].exception is ExceptionKind.damage
    customs = await service.track("ee 1234 5678 5 jp")
    assert customs is not None and customs.exception is ExceptionKind.customs_delay
    assert [scan.kind for scan in customs.scans] == [ScanKind.in_transit, ScanKind.exception]
    await load_demo_data(demo, CHEAP)  # idempotent
    async with demo.session() as s:
        assert (await s.execute(text("SELECT count(*) FROM shipments"))).scalar_one() == 7
        assert (await s.execute(text("SELECT count(*) FROM stations"))).scalar_one() == 4


async def test_tracking_refuses_bad_numbers_and_finds_nothing_for_unknown_ones(demo: Database) -> None:
    service = ShipmentService(demo, EventBus())
    with pytest.raises(InvalidWaybill):
        await service.track("SF1234567890")
    assert await service.track(domestic(999)) is None


async def test_a_late_scan_does_not_overtake_a_newer_one_and_exceptions_are_published(demo: Database) -> None:
    bus = EventBus()
    seen: list[object] = []
    bus.subscribe(ShipmentExceptionRecorded, seen.append)
    bus.subscribe(ShipmentDelivered, seen.append)
    service = ShipmentService(demo, bus)
    waybill = "7700000000024"
    now = datetime.now(UTC)
    delivered = await service.record_scan(
        waybill, NewScan(kind=ScanKind.delivered, place="Guangzhou Tianhe", station_code="GZ-TH", at=now), "sup"
    )
    assert delivered.status is ShipmentStatus.delivered
    late = await service.record_scan(
        waybill,
        NewScan(
            kind=ScanKind.exception, exception=ExceptionKind.delay, place="Beijing hub", at=now - timedelta(days=1)
        ),
        "sup",
    )
    assert (late.status, late.last_scan_place, late.exception) == (ShipmentStatus.delivered, "Guangzhou Tianhe", None)
    async with demo.session() as s:
        row = (await s.execute(select(Shipment).where(Shipment.waybill == waybill))).scalar_one()
    assert (row.status, row.last_scan_kind, row.last_scan_at) == (ShipmentStatus.delivered, ScanKind.delivered, now)
    assert [type(e).__name__ for e in seen] == ["ShipmentDelivered", "ShipmentExceptionRecorded"]
    assert isinstance(seen[1], ShipmentExceptionRecorded) and seen[1].exception == "delay"
    assert seen[1].sender_customer_id == await _customer(demo, "+8613800138000")


async def test_bad_scans_are_refused(demo: Database) -> None:
    service = ShipmentService(demo, EventBus())
    at = datetime.now(UTC)
    with pytest.raises(InvalidScan):
        await service.record_scan("7700000000016", NewScan(kind=ScanKind.exception, place="x", at=at), None)
    with pytest.raises(InvalidScan):
        await service.record_scan(
            "7700000000016", NewScan(kind=ScanKind.in_transit, place="x", station_code="NOPE", at=at), None
        )
    with pytest.raises(ShipmentNotFound):
        await service.record_scan(domestic(424242), NewScan(kind=ScanKind.in_transit, place="x", at=at), None)


async def test_volumes_per_customer_in_a_period(demo: Database) -> None:
    service = ShipmentService(demo, EventBus())
    zhang, chen, li = [await _customer(demo, p) for p in ("+8613800138000", "+8613700137000", "+8613900139000")]
    now = datetime.now(UTC)
    volumes = await service.volumes([zhang, chen, li, 999999], now - timedelta(days=7), now)
    assert volumes[zhang].parcels == 2 and volumes[zhang].revenue == Decimal("83.00")  # 38 + 45: 9 days is older
    assert volumes[chen].parcels == 1 and volumes[chen].revenue == Decimal("96.00")
    assert li not in volumes and 999999 not in volumes
    everything = await service.volumes([zhang], now - timedelta(days=30), now + timedelta(seconds=1))
    assert everything[zhang].parcels == 3


async def test_search_pages_newest_first(demo: Database) -> None:
    service = ShipmentService(demo, EventBus())
    first = await service.search(ShipmentFilter(), offset=0, limit=4)
    second = await service.search(ShipmentFilter(), offset=4, limit=4)
    assert len(first.items) == 4 and first.next_offset == 4
    assert len(second.items) == 3 and second.next_offset is None
    times = [i.created_at for i in first.items + second.items]
    assert times == sorted(times, reverse=True)
    damaged = await service.search(ShipmentFilter(exception=ExceptionKind.damage))
    assert [i.waybill for i in damaged.items] == ["7700000000032"]
    express = await service.search(ShipmentFilter(service=Service.express, status=ShipmentStatus.delivered))
    assert [i.waybill for i in express.items] == ["7700000000016"]


async def test_the_station_serving_a_postal_code_by_longest_prefix(demo: Database) -> None:
    stations = StationDirectory(demo)
    exact = await stations.serving("100020")
    assert exact is not None and exact.code == "BJ-CY"
    by_prefix = await stations.serving("100 185")  # "1001" covers it
    assert by_prefix is not None and by_prefix.code == "BJ-CY"
    assert (await stations.serving("200121")).code == "SH-PD"  # type: ignore[union-attr]
    assert await stations.serving("999999") is None
    assert await stations.serving("x") is None


async def test_open_now_from_the_stored_hours_and_holidays(demo: Database) -> None:
    stations = StationDirectory(demo)
    sunday = datetime(2026, 11, 29, 10, tzinfo=SH)
    closed = await stations.opening("BJ-CY", sunday)
    assert not closed.open and closed.next_open == datetime(2026, 11, 30, 8, 30, tzinfo=SH)
    assert (await stations.opening("SH-PD", sunday)).closes_at == datetime(2026, 11, 29, 20, tzinfo=SH)
    new_year = await stations.opening("SH-PD", datetime(2027, 1, 1, 10, tzinfo=SH))
    assert not new_year.open and new_year.next_open == datetime(2027, 1, 2, 8, tzinfo=SH)
    lunch = await stations.opening("SZ-NS", datetime(2026, 11, 24, 12, 15, tzinfo=SH))
    assert not lunch.open and lunch.next_open == datetime(2026, 11, 24, 13, 30, tzinfo=SH)
    eve = await stations.opening("GZ-TH", datetime(2027, 2, 6, 15, tzinfo=SH))
    assert not eve.open and eve.next_open == datetime(2027, 2, 7, 8, tzinfo=SH)
    with pytest.raises(StationNotFound):
        await stations.opening("NOPE", sunday)
    detail = await stations.detail("BJ-CY")
    assert detail.postal_codes == ["100020", "100025", "1001"] and {h.weekday for h in detail.hours} == set(range(6))


async def test_the_bulk_loader_copies_valid_shipments_the_services_read(db: Database) -> None:
    import asyncpg

    from shipments.bulk import load_shipments
    from shipments.waybills import validate

    async with db.session() as s:
        await s.execute(
            text(
                "INSERT INTO customers (name, phone, tier) "
                "SELECT 'c' || i, '+86139' || lpad(i::text, 8, '0'), 'regular' FROM generate_series(1, 3) i"
            )
        )
        await s.commit()
    url = db.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
    result = await load_shipments(url, [1, 2, 3], 4, chunk=5, rebuild_indexes=True)
    conn = await asyncpg.connect(url)
    try:
        indexes = {
            r["indexname"] for r in await conn.fetch("SELECT indexname FROM pg_indexes WHERE tablename = 'shipments'")
        }
    finally:
        await conn.close()
    assert result.rows == 12 and "ix_shipments_sender_recent" in indexes
    async with db.session() as s:
        waybills = list((await s.execute(select(Shipment.waybill).order_by(Shipment.id))).scalars())
    assert len(set(waybills)) == 12 and all(validate(w) == w for w in waybills)  # the SQL Luhn agrees
    service = ShipmentService(db, EventBus())
    recent = await service.recent_for_customer(2, limit=10)
    assert len(recent) == 4 and [r.created_at for r in recent] == sorted((r.created_at for r in recent), reverse=True)
    volumes = await service.volumes([1, 2, 3], datetime.now(UTC) - timedelta(days=400), datetime.now(UTC))
    assert {c: v.parcels for c, v in volumes.items()} == {1: 4, 2: 4, 3: 4}


async def test_the_luhn_digit_in_sql_matches_the_python_one(db: Database) -> None:
    import random

    from shipments.bulk import luhn_sql
    from shipments.waybills import luhn_check_digit

    serials = [random.randrange(10**11, 10**12) for _ in range(2000)] + [10**11, 10**12 - 1, 770000000001]
    async with db.session() as s:
        rows = await s.execute(
            text(f"SELECT n, {luhn_sql('n')} FROM unnest(CAST(:serials AS bigint[])) AS n"), {"serials": serials}
        )
        computed = {n: digit for n, digit in rows}
    assert computed == {n: luhn_check_digit(str(n)) for n in serials}
