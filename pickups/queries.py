"""Searching pickups: by station, state, day and phone, newest ready time first, page by page."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import ColumnElement, func, select

from crm_bridge.phones import normalise
from hotline.db import Database
from pickups.config import PickupRules
from pickups.errors import InvalidPickup
from pickups.models import Pickup, PickupState
from pickups.schemas import PickupPage, PickupView


@dataclass(frozen=True)
class PickupFilter:
    station: str | None = None
    state: PickupState | None = None
    day: date | None = None  # the ready time's local day (the rules' time zone)
    phone: str | None = None
    booked_by: str | None = None  # set for agents: they list only the pickups they booked


class PickupQueries:
    def __init__(self, db: Database, rules: PickupRules) -> None:
        self.db = db
        self.rules = rules

    def _conditions(self, f: PickupFilter) -> list[ColumnElement[bool]]:
        where: list[ColumnElement[bool]] = []
        if f.station:
            where.append(Pickup.station_code == f.station.upper())
        if f.state:
            where.append(Pickup.state == f.state)
        if f.day:
            start = datetime.combine(f.day, time(0), tzinfo=self.rules.zone)
            where.append(Pickup.ready_at >= start)
            where.append(Pickup.ready_at < start + timedelta(days=1))
        if f.phone:
            phone = normalise(f.phone)
            if phone is None:
                raise InvalidPickup(f"{f.phone!r} is not a phone number")
            where.append(Pickup.phone == phone)
        if f.booked_by is not None:
            where.append(Pickup.booked_by == f.booked_by)
        return where

    async def search(self, f: PickupFilter, page: int, size: int) -> PickupPage:
        where = self._conditions(f)
        stmt = (
            select(Pickup)
            .where(*where)
            .order_by(Pickup.ready_at.desc(), Pickup.id.desc())
            .offset((page - 1) * size)
            .limit(size)
        )
        async with self.db.session() as s:
            total = (await s.execute(select(func.count()).select_from(Pickup).where(*where))).scalar_one()
            rows = list((await s.execute(stmt)).scalars())
        return PickupPage(items=[PickupView.model_validate(r) for r in rows], total=total, page=page, size=size)
