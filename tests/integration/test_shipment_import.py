"""CSV import of shipments and scans: every bad row reported with its line and reason, nothing half-imported."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest
from sqlalchemy import text

from hotline.db import Database
from shipments.imports import SCAN_COLUMNS, SHIPMENT_COLUMNS, ShipmentImporter
from shipments.models import Station
from shipments.waybills import domestic

NOW = datetime(2026, 11, 24, 8, tzinfo=UTC)
HEADER = ",".join(SHIPMENT_COLUMNS)
SCAN_HEADER = ",".join(SCAN_COLUMNS)


def row(waybill: str, customer: str = "", created: str = "2026-11-20T09:30:00+08:00", **over: str) -> str:
    values = {
        "waybill": waybill,
        "customer_id": customer,
        "sender_name": "Zhang Wei",
        "sender_phone": "138 0013 8000",
        "sender_address": "Beijing",
        "receiver_name": "Liu Yang",
        "receiver_phone": "",
        "receiver_address": "Shanghai",
        "origin_city": "Beijing",
        "origin_postal_code": "100020",
        "destination_city": "Shanghai",
        "destination_postal_code": "200120",
        "service": "express",
        "weight_kg": "1.25",
        "charge": "23.00",
        "created_at": created,
    } | over
    return ",".join(values[c] for c in SHIPMENT_COLUMNS)


@pytest.fixture
async def importer(db: Database) -> ShipmentImporter:
    async with db.session() as s:
        await s.execute(text("INSERT INTO customers (name, phone, tier) VALUES ('Zhang Wei', '+8613800138000', 'vip')"))
        s.add(Station(code="BJ-CY", name="Chaoyang", city="Beijing", address="x"))
        await s.commit()
    return ShipmentImporter(db, lambda: NOW)


async def _count(db: Database, table: str) -> int:
    async with db.session() as s:
        return int((await s.execute(text(f"SELECT count(*) FROM {table}"))).scalar_one())


async def test_a_good_file_is_imported_whole(importer: ShipmentImporter, db: Database) -> None:
    body = "\n".join([HEADER, row(domestic(1), "1"), row("ee 1234 5678 5 cn", created=""), row(domestic(2))])
    report = await importer.shipments(body)
    assert (report.imported, report.rejected) == (3, [])
    async with db.session() as s:
        rows = (
            await s.execute(
                text("SELECT waybill, sender_customer_id, sender_phone, status, created_at FROM shipments ORDER BY id")
            )
        ).all()
    assert [r[0] for r in rows] == [domestic(1), "EE123456785CN", domestic(2)]
    assert rows[0][1:4] == (1, "+8613800138000", "created")
    assert rows[1][4] == NOW  # no creation time: the import's


async def test_bad_rows_are_reported_and_nothing_is_imported(importer: ShipmentImporter, db: Database) -> None:
    await importer.shipments("\n".join([HEADER, row(domestic(7))]))
    body = "\n".join(
        [
            HEADER,
            row(domestic(1)),  # line 2: good
            row("7700000000017"),  # 3: check digit
            row(domestic(2), created="yesterday"),  # 4: bad date
            row(domestic(3), created="2026-11-20T09:30:00"),  # 5: no offset
            row(domestic(4), "77"),  # 6: unknown customer
            row(domestic(7)),  # 7: already in the database
            row(domestic(1)),  # 8: twice in the file
            row(domestic(5), service="teleport"),  # 9
            row(domestic(6), weight_kg="-1"),  # 10
            row(domestic(8), sender_name=""),  # 11
            row(domestic(9), sender_phone="12"),  # 12
        ]
    )
    report = await importer.shipments(body)
    assert report.imported == 0
    reasons = {r.line: r.reason for r in report.rejected}
    assert sorted(reasons) == list(range(3, 13))
    assert "check digit" in reasons[3] and reasons[3].startswith("bad waybill")
    assert reasons[4].startswith("bad date") and "offset" in reasons[5]
    assert reasons[6] == "unknown customer 77"
    assert "already exists" in reasons[7] and "already on line 2" in reasons[8]
    assert "unknown service" in reasons[9] and "weight_kg" in reasons[10]
    assert reasons[11] == "sender_name is missing" and "phone" in reasons[12]
    assert await _count(db, "shipments") == 1


async def test_a_header_without_the_columns_is_refused(importer: ShipmentImporter) -> None:
    report = await importer.shipments("waybill,name\n7700000000016,x\n")
    assert report.imported == 0 and report.rejected[0].line == 1 and "sender_name" in report.rejected[0].reason


async def test_scans_import_all_or_nothing_and_recompute_status(importer: ShipmentImporter, db: Database) -> None:
    await importer.shipments("\n".join([HEADER, row(domestic(1)), row(domestic(2))]))
    bad = "\n".join(
        [
            SCAN_HEADER,
            f"{domestic(1)},picked_up,,Beijing Chaoyang,BJ-CY,2026-11-20T10:00:00+08:00,",
            f"{domestic(1)},in_transit,,Beijing hub,XX-00,2026-11-20T12:00:00+08:00,",  # 3: unknown station
            f"{domestic(9)},in_transit,,Beijing hub,,2026-11-20T12:00:00+08:00,",  # 4: unknown waybill
            f"{domestic(2)},exception,,Beijing hub,,2026-11-20T12:00:00+08:00,",  # 5: which exception?
            f"{domestic(2)},in_transit,,Beijing hub,,20/11/2026,",  # 6: bad date
        ]
    )
    report = await importer.scans(bad, "admin")
    assert report.imported == 0
    assert [(r.line, r.reason.split(" ")[0]) for r in report.rejected] == [
        (3, "unknown"),
        (4, "unknown"),
        (5, "an"),
        (6, "bad"),
    ]
    assert "station XX-00" in report.rejected[0].reason and "waybill" in report.rejected[1].reason
    assert await _count(db, "scan_events") == 0
    good = "\n".join(
        [
            SCAN_HEADER,
            f"{domestic(1)},delivered,,Shanghai,,2026-11-21T15:00:00+08:00,signed by the receiver",
            f"{domestic(1)},picked_up,,Beijing Chaoyang,bj-cy,2026-11-20T10:00:00+08:00,",
            f"{domestic(2)},exception,misroute,Wuhan hub,,2026-11-21T15:00:00+08:00,",
        ]
    )
    report = await importer.scans(good, "admin")
    assert (report.imported, report.rejected) == (3, [])
    async with db.session() as s:
        rows = dict(
            (r[0], r[1:])
            for r in await s.execute(text("SELECT waybill, status, last_scan_place, exception FROM shipments"))
        )
    assert rows[domestic(1)] == ("delivered", "Shanghai", None)
    assert rows[domestic(2)] == ("exception", "Wuhan hub", "misroute")


async def test_import_rate(importer: ShipmentImporter, db: Database) -> None:
    """Prints the rows per second (a figure for the report; asserts only that every row landed)."""
    n = 5000
    body = "\n".join([HEADER, *(row(domestic(10_000 + i)) for i in range(n))])
    started = time.perf_counter()
    report = await importer.shipments(body)
    elapsed = time.perf_counter() - started
    assert report.imported == n and await _count(db, "shipments") == n
    print(f"\nshipments CSV import: {n} rows in {elapsed:.2f} s = {n / elapsed:.0f} rows/s")
