"""The shipments and stations routes through the real app: tracking, scans, stations, postal codes, CSV."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from hotline.db import Database
from shipments.events import ShipmentExceptionRecorded
from shipments.waybills import domestic
from tests.integration.appkit import Kit, app_kit


@pytest.fixture
async def kit(db: Database, pg_url: str, tmp_path: Path) -> AsyncIterator[Kit]:
    async with app_kit(pg_url, tmp_path) as k:
        yield k


async def test_an_agent_tracks_a_waybill_as_the_caller_says_it(kit: Kit) -> None:
    agent = await kit.login("1001")
    r = await kit.client.get("/api/shipments/ee-1234-5678-5jp", headers=agent)
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["waybill"], body["status"], body["exception"]) == ("EE123456785JP", "exception", "customs_delay")
    assert [s["kind"] for s in body["scans"]] == ["in_transit", "exception"]
    bad = await kit.client.get("/api/shipments/SF1234567890", headers=agent)
    assert bad.status_code == 422 and bad.json()["error"] == "invalid_waybill"
    unknown = await kit.client.get(f"/api/shipments/{domestic(990)}", headers=agent)
    assert unknown.status_code == 404 and unknown.json()["error"] == "not_found"


async def test_a_supervisor_records_an_exception_scan_and_the_bus_hears_it(kit: Kit) -> None:
    heard: list[ShipmentExceptionRecorded] = []
    kit.controller.core.bus.subscribe(ShipmentExceptionRecorded, heard.append)
    sup = await kit.login("demo-supervisor")
    scan = {"kind": "exception", "exception": "loss", "place": "Beijing hub", "at": "2030-01-01T09:00:00+08:00"}
    r = await kit.client.post("/api/shipments/7700000000024/scans", headers=sup, json=scan)
    assert r.status_code == 201 and (r.json()["status"], r.json()["exception"]) == ("exception", "loss")
    assert [(e.waybill, e.exception, e.recorded_by) for e in heard] == [("7700000000024", "loss", "demo-supervisor")]
    r = await kit.client.post("/api/shipments/7700000000024/scans", headers=sup, json=scan | {"exception": None})
    assert r.status_code == 422
    page = (await kit.client.get("/api/shipments", headers=sup, params={"exception": "loss"})).json()
    assert [i["waybill"] for i in page["items"]] == ["7700000000024"] and page["next_offset"] is None


async def test_which_station_serves_a_postal_code_and_is_it_open_now(kit: Kit) -> None:
    plugin = kit.controller.plugin("shipments")
    plugin.clock = lambda: datetime(2026, 11, 29, 10, tzinfo=ZoneInfo("Asia/Shanghai"))  # type: ignore[attr-defined]
    agent = await kit.login("1001")
    r = await kit.client.get("/api/postal-codes/100020/station", headers=agent)
    body = r.json()
    assert body["station"]["code"] == "BJ-CY" and body["opening"]["open"] is False  # Sunday
    assert body["opening"]["next_open"].startswith("2026-11-30T08:30:00+08:00")
    r = await kit.client.get("/api/postal-codes/200120/station", headers=agent)
    assert r.json()["opening"] == {"open": True, "closes_at": "2026-11-29T20:00:00+08:00", "next_open": None}
    assert (await kit.client.get("/api/postal-codes/999999/station", headers=agent)).status_code == 404
    stations = (await kit.client.get("/api/stations", headers=agent)).json()
    assert [s["code"] for s in stations] == ["BJ-CY", "GZ-TH", "SH-PD", "SZ-NS"]
    detail = (await kit.client.get("/api/stations/GZ-TH", headers=agent)).json()
    assert detail["holidays"] == [{"day": "2027-02-06", "opens": "10:00:00", "closes": "14:00:00", "note": None}]
    assert (await kit.client.get("/api/stations/NOPE", headers=agent)).status_code == 404


async def test_an_admin_imports_a_csv_file(kit: Kit) -> None:
    admin = await kit.login("demo-admin")
    csv = (
        "waybill,kind,exception,place,station_code,at,note\n"
        "7700000000065,in_transit,,Guangzhou hub,,2030-01-01T08:00:00+08:00,\n"
        "7700000000065,at_station,,Nowhere,ZZ-99,2030-01-02T08:00:00+08:00,\n"
    )
    r = await kit.client.post("/api/scans/import", headers=admin | {"Content-Type": "text/csv"}, content=csv)
    assert r.status_code == 200 and r.json() == {
        "imported": 0,
        "rejected": [{"line": 3, "reason": "unknown station ZZ-99"}],
    }
    r = await kit.client.post(
        "/api/scans/import", headers=admin | {"Content-Type": "text/csv"}, content=csv.rsplit("7700000000065,at", 1)[0]
    )
    assert r.json() == {"imported": 1, "rejected": []}
    tracked = (await kit.client.get("/api/shipments/7700000000065", headers=admin)).json()
    assert (tracked["status"], tracked["last_scan_place"]) == ("in_transit", "Guangzhou hub")
