"""Stations: which one serves a postal code (longest matching prefix), and whether it is open at a time."""

from __future__ import annotations

import re
from collections import defaultdict
from datetime import date, datetime

from sqlalchemy import func, select

from hotline.db import Database
from hotline.hours import Interval, Schedule, opening
from shipments.errors import StationNotFound
from shipments.models import PostalArea, Station, StationHoliday, StationHours
from shipments.schemas import HolidayView, HoursView, OpeningState, StationDetail, StationView

_POSTAL = re.compile(r"^[0-9A-Z]{2,12}$")


def postal_prefixes(postal_code: str) -> list[str]:
    """``100020`` → ``100020, 10002, 1000, 100, 10``: the keys a station may be registered under."""
    code = re.sub(r"[\s-]", "", postal_code).upper()
    if not _POSTAL.match(code):
        return []
    return [code[:n] for n in range(len(code), 1, -1)]


def view_of(s: Station) -> StationView:
    return StationView(code=s.code, name=s.name, city=s.city, address=s.address, phone=s.phone)


class StationDirectory:
    """Implements ``shipments.interface.StationFinder``, plus the lists the routes show."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def serving(self, postal_code: str) -> StationView | None:
        prefixes = postal_prefixes(postal_code)
        if not prefixes:
            return None
        stmt = (
            select(Station)
            .join(PostalArea, PostalArea.station_code == Station.code)
            .where(PostalArea.postal_code.in_(prefixes))
            .order_by(func.length(PostalArea.postal_code).desc())
            .limit(1)
        )
        async with self.db.session() as s:
            station = (await s.execute(stmt)).scalar_one_or_none()
        return None if station is None else view_of(station)

    async def schedule(self, station_code: str) -> Schedule:
        async with self.db.session() as s:
            station = await s.get(Station, station_code)
            if station is None:
                raise StationNotFound(f"no station {station_code}")
            hours = (await s.execute(select(StationHours).where(StationHours.station_code == station_code))).scalars()
            holidays = (
                await s.execute(select(StationHoliday).where(StationHoliday.station_code == station_code))
            ).scalars()
            weekly: dict[int, list[Interval]] = defaultdict(list)
            for h in hours:
                weekly[h.weekday].append((h.opens, h.closes))
            special: dict[date, list[Interval]] = {}
            for d in holidays:  # a date with no times is closed: its empty list says so
                spans = special.setdefault(d.day, [])
                if d.opens is not None and d.closes is not None:
                    spans.append((d.opens, d.closes))
            return Schedule(station.timezone, dict(weekly), dict(special))

    async def opening(self, station_code: str, at: datetime) -> OpeningState:
        state = opening(await self.schedule(station_code), at)
        return OpeningState(open=state.open, closes_at=state.closes_at, next_open=state.next_open)

    async def all(self, city: str | None = None) -> list[StationView]:
        stmt = select(Station).order_by(Station.code)
        if city:
            stmt = stmt.where(func.lower(Station.city) == city.lower())
        async with self.db.session() as s:
            return [view_of(r) for r in (await s.execute(stmt)).scalars()]

    async def detail(self, station_code: str) -> StationDetail:
        async with self.db.session() as s:
            station = await s.get(Station, station_code)
            if station is None:
                raise StationNotFound(f"no station {station_code}")
            hours = (
                await s.execute(
                    select(StationHours)
                    .where(StationHours.station_code == station_code)
                    .order_by(StationHours.weekday, StationHours.opens)
                )
            ).scalars()
            holidays = (
                await s.execute(
                    select(StationHoliday)
                    .where(StationHoliday.station_code == station_code)
                    .order_by(StationHoliday.day, StationHoliday.opens)
                )
            ).scalars()
            codes = (
                await s.execute(
                    select(PostalArea.postal_code)
                    .where(PostalArea.station_code == station_code)
                    .order_by(PostalArea.postal_code)
                )
            ).scalars()
            return StationDetail(
                **view_of(station).model_dump(),
                timezone=station.timezone,
                hours=[HoursView(weekday=h.weekday, opens=h.opens, closes=h.closes) for h in hours],
                holidays=[HolidayView(day=d.day, opens=d.opens, closes=d.closes, note=d.note) for d in holidays],
                postal_codes=list(codes),
            )
