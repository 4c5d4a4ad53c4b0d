"""Demo stations (Beijing, Shanghai, Shenzhen, Guangzhou) and the demo customers' shipments (demo mode only).

The waybills the demo customers call about (their work orders name them):
  7700000000016 Zhang Wei  delivered (Beijing → Shanghai)
  7700000000024 Zhang Wei  in transit, held at the Beijing hub ("stuck for 3 days")
  7700000000032 Zhang Wei  damage exception (the ceramic vase of the claim)
  EE123456785JP Li Na      customs delay (the parcel from Japan, billed to her account)
  7700000000040 Chen Gang  out for delivery;  7700000000057 Chen Gang  delivered
  7700000000065 Wang Xiu   picked up
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from crm_bridge.phones import normalise
from hotline.auth import Passwords
from shipments.models import PostalArea, ScanEvent, Shipment, Station, StationHoliday, StationHours
from shipments.services.tracking import apply_summary, scan_of
from shipments.status import ExceptionKind, ScanKind, Service, summarise
from shipments.waybills import domestic, s10

Span = tuple[time, time]
WEEKDAYS = range(5)
FULL_DAY: list[Span] = [(time(8, 30), time(18, 30))]
LUNCH_BREAK: list[Span] = [(time(9), time(12)), (time(13, 30), time(18))]

# code, name, city, address, phone, {weekday: spans} (absent: closed), holidays {date: spans}, postal codes
STATIONS: list[tuple[str, str, str, str, str, dict[int, list[Span]], dict[date, list[Span]], list[str]]] = [
    (
        "BJ-CY",
        "Beijing Chaoyang Station",
        "Beijing",
        "88 Jianguo Road, Chaoyang District",
        "+861065880000",
        {d: FULL_DAY for d in range(6)},  # closed on Sunday
        {},
        ["100020", "100025", "1001"],
    ),
    (
        "SH-PD",
        "Shanghai Pudong Station",
        "Shanghai",
        "1000 Century Avenue, Pudong New Area",
        "+862150800000",
        {d: [(time(8), time(20))] for d in range(7)},
        {date(2027, 1, 1): []},  # New Year's Day: closed
        ["200120", "2001"],
    ),
    (
        "SZ-NS",
        "Shenzhen Nanshan Station",
        "Shenzhen",
        "9 Keji Road, Nanshan District",
        "+8675526600000",
        {d: LUNCH_BREAK for d in WEEKDAYS} | {5: [(time(10), time(16))], 6: [(time(10), time(16))]},
        {},
        ["518052", "5180"],
    ),
    (
        "GZ-TH",
        "Guangzhou Tianhe Station",
        "Guangzhou",
        "208 Tianhe Road, Tianhe District",
        "+862038880000",
        {d: [(time(8), time(21))] for d in range(7)},
        {date(2027, 2, 6): [(time(10), time(14))]},  # Spring Festival eve: short hours
        ["510620", "5106"],
    ),
]

ZHANG, LI, CHEN, WANG = "13800138000", "13900139000", "13700137000", "13600136000"
NAMES = {ZHANG: "Zhang Wei", LI: "Li Na", CHEN: "Chen Gang", WANG: "Wang Xiu"}
# the parcel from Japan is an import billed to Li Na's account: she is its customer, a shop its sender
SENDER_NAMES = {s10("EE", 12345678, "JP"): "Tokyo Select Store"}
BJ = ("Beijing", "100020", "BJ-CY")
SH = ("Shanghai", "200120", "SH-PD")
SZ = ("Shenzhen", "518052", "SZ-NS")
GZ = ("Guangzhou", "510620", "GZ-TH")
# a scan: (hours after creation, kind, place, station code, exception)
ScanSpec = tuple[float, ScanKind, str, str | None, ExceptionKind | None]
PICKED = ScanKind.picked_up
MOVING = ScanKind.in_transit
AT_STATION = ScanKind.at_station
OUT = ScanKind.out_for_delivery
DELIVERED = ScanKind.delivered
EXCEPTION = ScanKind.exception

# waybill, sender phone, receiver name, origin, destination, service, kg, charge, days ago, scans
SHIPMENTS: list[
    tuple[str, str, str, tuple[str, str, str], tuple[str, str, str], Service, str, str, float, list[ScanSpec]]
] = [
    (
        domestic(770000000001),
        ZHANG,
        "Liu Yang",
        BJ,
        SH,
        Service.express,
        "1.2",
        "23.00",
        9,
        [
            (1, PICKED, "Beijing Chaoyang", "BJ-CY", None),
            (6, MOVING, "Beijing hub", None, None),
            (20, AT_STATION, "Shanghai Pudong", "SH-PD", None),
            (22, OUT, "Shanghai Pudong", "SH-PD", None),
            (26, DELIVERED, "Shanghai Pudong", "SH-PD", None),
        ],
    ),
    (
        domestic(770000000002),
        ZHANG,
        "Zhao Min",
        BJ,
        GZ,
        Service.standard,
        "4.5",
        "38.00",
        4,
        [(1, PICKED, "Beijing Chaoyang", "BJ-CY", None), (5, MOVING, "Beijing hub", None, None)],
    ),
    (
        domestic(770000000003),
        ZHANG,
        "Sun Li",
        BJ,
        SZ,
        Service.express,
        "3.0",
        "45.00",
        6,
        [
            (1, PICKED, "Beijing Chaoyang", "BJ-CY", None),
            (7, MOVING, "Beijing hub", None, None),
            (30, EXCEPTION, "Shenzhen Nanshan", "SZ-NS", ExceptionKind.damage),
        ],
    ),
    (
        s10("EE", 12345678, "JP"),
        LI,
        "Li Na",
        ("Tokyo", "1000001", ""),
        SH,
        Service.international,
        "2.0",
        "180.00",
        8,
        [
            (48, MOVING, "Shanghai Pudong airport", None, None),
            (52, EXCEPTION, "Shanghai customs", None, ExceptionKind.customs_delay),
        ],
    ),
    (
        domestic(770000000004),
        CHEN,
        "Huang Qiang",
        SZ,
        BJ,
        Service.express,
        "12.0",
        "96.00",
        1,
        [
            (1, PICKED, "Shenzhen Nanshan", "SZ-NS", None),
            (8, MOVING, "Shenzhen hub", None, None),
            (20, OUT, "Beijing Chaoyang", "BJ-CY", None),
        ],
    ),
    (
        domestic(770000000005),
        CHEN,
        "Xu Jing",
        SZ,
        SH,
        Service.economy,
        "25.0",
        "120.00",
        12,
        [
            (2, PICKED, "Shenzhen Nanshan", "SZ-NS", None),
            (30, AT_STATION, "Shanghai Pudong", "SH-PD", None),
            (40, DELIVERED, "Shanghai Pudong", "SH-PD", None),
        ],
    ),
    (
        domestic(770000000006),
        WANG,
        "Wang Fang",
        GZ,
        BJ,
        Service.standard,
        "0.8",
        "12.00",
        0.2,
        [(1, PICKED, "Guangzhou Tianhe", "GZ-TH", None)],
    ),
]


async def _stations(session: AsyncSession) -> None:
    have = set((await session.execute(select(Station.code))).scalars())
    for code, name, city, address, phone, weekly, holidays, postal in STATIONS:
        if code in have:
            continue
        session.add(Station(code=code, name=name, city=city, address=address, phone=phone))
        await session.flush()
        session.add_all(
            StationHours(station_code=code, weekday=d, opens=a, closes=b)
            for d, spans in weekly.items()
            for a, b in spans
        )
        for day, spans in holidays.items():
            rows = [StationHoliday(station_code=code, day=day, opens=a, closes=b) for a, b in spans]
            session.add_all(rows or [StationHoliday(station_code=code, day=day, note="closed")])
        session.add_all(PostalArea(postal_code=p, station_code=code) for p in postal)


async def _customer_ids(session: AsyncSession) -> dict[str, int]:
    phones = {raw: normalise(raw) or raw for raw in (ZHANG, LI, CHEN, WANG)}
    rows = await session.execute(
        text("SELECT phone, id FROM customers WHERE phone = ANY(:phones)"), {"phones": list(phones.values())}
    )
    by_phone = {phone: customer_id for phone, customer_id in rows}
    return {raw: by_phone[p] for raw, p in phones.items() if p in by_phone}


async def load(session: AsyncSession, _: Passwords) -> None:
    """Idempotent: stations (by code) and shipments (by waybill) already there are left as they are."""
    await _stations(session)
    await session.flush()
    customers = await _customer_ids(session)
    have = set((await session.execute(select(Shipment.waybill))).scalars())
    now = datetime.now(UTC)
    for waybill, sender, receiver, origin, destination, service, kg, charge, days_ago, scans in SHIPMENTS:
        if waybill in have:
            continue
        created = now - timedelta(days=days_ago)
        shipment = Shipment(
            waybill=waybill,
            sender_customer_id=customers.get(sender),
            sender_name=SENDER_NAMES.get(waybill, NAMES[sender]),
            sender_phone=None if waybill in SENDER_NAMES else normalise(sender),
            sender_address=f"{origin[0]} (demo address)",
            receiver_name=receiver,
            receiver_address=f"{destination[0]} (demo address)",
            origin_city=origin[0],
            origin_postal_code=origin[1],
            destination_city=destination[0],
            destination_postal_code=destination[1],
            service=service,
            weight_kg=Decimal(kg),
            charge=Decimal(charge),
            created_at=created,
        )
        session.add(shipment)
        await session.flush()
        events = [
            ScanEvent(
                shipment_id=shipment.id,
                kind=kind,
                exception=exception,
                place=place,
                station_code=station,
                at=min(created + timedelta(hours=hours), now),
            )
            for hours, kind, place, station, exception in scans
        ]
        session.add_all(events)
        await session.flush()
        apply_summary(shipment, summarise(scan_of(e) for e in events))
