"""Status, last scan and open exception computed from scan events, whatever order they arrive in."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from shipments.status import NOT_SCANNED, ExceptionKind, Scan, ScanKind, ShipmentStatus, summarise

T0 = datetime(2026, 11, 20, 8, tzinfo=UTC)


def scan(hours: float, kind: ScanKind, place: str = "X", exception: ExceptionKind | None = None, seq: int = 0) -> Scan:
    return Scan(kind=kind, at=T0 + timedelta(hours=hours), place=place, exception=exception, sequence=seq)


def test_no_scan_is_created() -> None:
    assert summarise([]) == NOT_SCANNED
    assert NOT_SCANNED.status is ShipmentStatus.created


def test_the_latest_scan_by_time_wins_whatever_the_arrival_order() -> None:
    scans = [
        scan(0, ScanKind.picked_up, "Beijing Chaoyang", seq=1),
        scan(5, ScanKind.in_transit, "Beijing hub", seq=2),
        scan(30, ScanKind.delivered, "Shanghai Pudong", seq=3),
        scan(20, ScanKind.out_for_delivery, "Shanghai Pudong", seq=4),  # uploaded late
    ]
    for _ in range(5):
        random.shuffle(scans)
        s = summarise(scans)
        assert (s.status, s.last_scan_place, s.last_scan_at) == (
            ShipmentStatus.delivered,
            "Shanghai Pudong",
            T0 + timedelta(hours=30),
        )
        assert s.exception is None


def test_same_time_scans_are_ordered_by_arrival() -> None:
    s = summarise([scan(1, ScanKind.at_station, "B", seq=8), scan(1, ScanKind.in_transit, "A", seq=7)])
    assert (s.last_scan_kind, s.last_scan_place) == (ScanKind.at_station, "B")


def test_an_exception_is_open_until_the_parcel_moves_again() -> None:
    held = [scan(0, ScanKind.picked_up), scan(3, ScanKind.exception, "Shanghai customs", ExceptionKind.customs_delay)]
    s = summarise(held)
    assert (s.status, s.exception, s.last_scan_place) == (
        ShipmentStatus.exception,
        ExceptionKind.customs_delay,
        "Shanghai customs",
    )
    moved = summarise([*held, scan(10, ScanKind.in_transit)])
    assert (moved.status, moved.exception) == (ShipmentStatus.in_transit, None)
    # a scan from before the hold, arriving late, does not clear it
    late = summarise([*held, scan(1, ScanKind.in_transit, seq=9)])
    assert (late.status, late.exception) == (ShipmentStatus.exception, ExceptionKind.customs_delay)


def test_damage_stays_after_delivery_but_a_newer_exception_is_shown_first() -> None:
    damaged = [scan(0, ScanKind.picked_up), scan(2, ScanKind.exception, exception=ExceptionKind.damage)]
    delivered = summarise([*damaged, scan(9, ScanKind.delivered)])
    assert (delivered.status, delivered.exception) == (ShipmentStatus.delivered, ExceptionKind.damage)
    delayed = summarise([*damaged, scan(5, ScanKind.exception, exception=ExceptionKind.delay)])
    assert delayed.exception is ExceptionKind.delay
    lost_then_found = summarise(
        [
            scan(0, ScanKind.picked_up),
            scan(2, ScanKind.exception, exception=ExceptionKind.loss),
            scan(9, ScanKind.delivered),
        ]
    )
    assert lost_then_found.exception is None
