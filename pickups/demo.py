"""Demo pickups (demo mode only): two booked by agent 1001 (one waiting for a station, one assigned) and
one assigned booked by agent 1002, each ready later today or tomorrow (local time), with its history.

Their references are fixed (valid Damm numbers) so the demo can be followed by phone. Station codes are
the demo stations' codes of the shipments package (BJ-CY Beijing Chaoyang, SH-PD Shanghai Pudong).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.auth import Passwords
from pickups.config import PickupRules
from pickups.models import Pickup, PickupChange, PickupState

# reference, booked by, name, phone, address, postal code, pieces, kg, goods, destination, station
DEMO: list[tuple[str, str, str, str, str, str, int, float, str, str, str | None]] = [
    (
        "31058266",
        "1001",
        "Zhang Wei",
        "+8613800138000",
        "Huaxin Trading Co., 12 Jianguo Road, Chaoyang, Beijing",
        "100020",
        3,
        12.5,
        "ceramics samples",
        "Shanghai",
        "BJ-CY",
    ),
    (
        "47201938",
        "1001",
        "Wang Xiu",
        "+8613600136000",
        "88 Huanshi East Road, Yuexiu, Guangzhou",
        "510060",
        1,
        0.8,
        "documents",
        "Beijing",
        None,
    ),
    (
        "58613471",
        "1002",
        "Li Na",
        "+8613900139000",
        "200 Century Avenue, Pudong, Shanghai",
        "200120",
        2,
        4.0,
        "clothing",
        "Chengdu",
        "SH-PD",
    ),
]


def _window(now: datetime, rules: PickupRules) -> tuple[datetime, datetime]:
    """Two hours before the day ends, today if that is still ahead, else tomorrow."""
    local = now.astimezone(rules.zone)
    end = datetime.combine(local.date(), rules.day_ends, tzinfo=rules.zone)
    if end - timedelta(hours=3) < local:
        end += timedelta(days=1)
    ready = max(end - timedelta(hours=4), datetime.combine(end.date(), rules.day_starts, tzinfo=rules.zone))
    return ready, end - timedelta(hours=1)


async def load(session: AsyncSession, _: Passwords) -> None:
    """Idempotent: references already there are left as they are."""
    rules = PickupRules.load()
    known = set((await session.execute(select(Pickup.reference))).scalars())
    now = datetime.now(UTC)
    ready, close = _window(now, rules)
    for ref, by, name, phone, address, postal, pieces, kg, goods, dest, station in DEMO:
        if ref in known:
            continue
        history = [PickupChange(at=now, by=by, from_state=None, to_state=PickupState.booked, reason="booked")]
        if station:
            history.append(
                PickupChange(
                    at=now,
                    by=by,
                    from_state=PickupState.booked,
                    to_state=PickupState.assigned,
                    reason=f"station {station} serves {postal}",
                )
            )
        session.add(
            Pickup(
                reference=ref,
                state=PickupState.assigned if station else PickupState.booked,
                name=name,
                phone=phone,
                address=address,
                postal_code=postal,
                pieces=pieces,
                weight_kg=kg,
                goods=goods,
                destination=dest,
                ready_at=ready,
                close_at=close,
                station_code=station,
                unassigned_reason=None if station else f"no station serves postal code {postal}",
                booked_by=by,
                rebooks=0,
                created_at=now,
                updated_at=now,
                history=history,
            )
        )
