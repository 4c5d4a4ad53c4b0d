"""A shipment's status and last scan, computed from its scan events (a pure function).

Scans arrive out of order (a station uploads its scanner's memory hours later), so the events are ordered
by their scan time, ties broken by arrival order (the event's sequence number), never by arrival alone.

- The **last scan** is the latest by that order; the **status** is its kind (``exception`` when it reported
  one), ``created`` before any scan.
- The **exception** shown is the one still open: the latest exception scan when no progress scan came after
  it (a later in-transit scan clears a delay, a misroute, a customs hold or a loss: the parcel moves again).
  **Damage** stays once scanned, whatever follows: a damaged parcel delivered is still damaged (the claim
  needs it), unless a newer exception replaced it as the open one.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime


class ScanKind(enum.StrEnum):
    picked_up = "picked_up"
    in_transit = "in_transit"
    at_station = "at_station"
    out_for_delivery = "out_for_delivery"
    delivered = "delivered"
    exception = "exception"


class ExceptionKind(enum.StrEnum):
    customs_delay = "customs_delay"
    delay = "delay"
    misroute = "misroute"
    damage = "damage"
    loss = "loss"


class ShipmentStatus(enum.StrEnum):
    created = "created"  # booked, no scan yet
    picked_up = "picked_up"
    in_transit = "in_transit"
    at_station = "at_station"
    out_for_delivery = "out_for_delivery"
    delivered = "delivered"
    exception = "exception"


class Service(enum.StrEnum):
    standard = "standard"
    express = "express"
    economy = "economy"
    international = "international"


STICKY = frozenset({ExceptionKind.damage})


@dataclass(frozen=True)
class Scan:
    """What the computation needs of a scan event."""

    kind: ScanKind
    at: datetime
    place: str
    exception: ExceptionKind | None = None
    sequence: int = 0  # arrival order (the row id): breaks ties between scans of the same time


@dataclass(frozen=True)
class Summary:
    status: ShipmentStatus
    last_scan_kind: ScanKind | None
    last_scan_place: str | None
    last_scan_at: datetime | None
    exception: ExceptionKind | None


NOT_SCANNED = Summary(ShipmentStatus.created, None, None, None, None)


def summarise(scans: Iterable[Scan]) -> Summary:
    ordered = sorted(scans, key=lambda s: (s.at, s.sequence))
    if not ordered:
        return NOT_SCANNED
    last = ordered[-1]
    open_exception: ExceptionKind | None = None
    sticky: ExceptionKind | None = None
    for scan in ordered:
        if scan.kind is ScanKind.exception:
            open_exception = scan.exception
            if scan.exception in STICKY:
                sticky = scan.exception
        else:
            open_exception = None
    return Summary(
        status=ShipmentStatus(last.kind.value),
        last_scan_kind=last.kind,
        last_scan_place=last.place,
        last_scan_at=last.at,
        exception=open_exception or sticky,
    )
