"""The pickups plugin asks the station finder registered under its key at each call, whoever provides it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import pytest

from hotline.plugins import Services
from pickups.plugin import STATION_KEY, WiredStations
from pickups.stations import serving_station


@dataclass
class Station:
    code: str


class FinderOnly:
    async def serving(self, postal_code: str) -> Station | None:
        return Station("PEK01") if postal_code == "100020" else None


class FinderWithHours(FinderOnly):
    async def opening(self, station_code: str, at: datetime) -> str:
        return f"{station_code} at {at:%H:%M}"


async def test_unwired_finder_leaves_orders_unassigned_saying_so() -> None:
    stations = WiredStations(Services(), STATION_KEY)
    with pytest.raises(LookupError, match="no station finder is wired"):
        await stations.serving("100020")
    assert await serving_station(stations, "100020", 0.5) == (
        None,
        "station look-up failed (no station finder is wired); assign it later",
    )


async def test_a_finder_provided_later_is_used_and_its_hours_when_it_has_them() -> None:
    services = Services()
    stations = WiredStations(services, STATION_KEY)
    services.provide(STATION_KEY, FinderOnly())
    assert await serving_station(stations, "100020", 0.5) == ("PEK01", None)
    assert await serving_station(stations, "999999", 0.5) == (None, "no station serves postal code 999999")
    at = datetime(2026, 11, 24, 9, 30, tzinfo=UTC)
    assert await stations.opening("PEK01", at) is None  # hours unknown: the default day applies
    services.provide(STATION_KEY, FinderWithHours())
    assert await stations.opening("PEK01", at) == "PEK01 at 09:30"
