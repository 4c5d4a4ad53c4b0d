"""Pickups over real PostgreSQL: booking and station assignment, references, transitions and history."""

from __future__ import annotations

import asyncio
import itertools
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, text

from crm_bridge.models import Customer, CustomerPhone, Tier
from crm_bridge.service import CustomerDirectory
from hotline.bus import EventBus
from hotline.db import Database
from pickups.config import PickupRules
from pickups.errors import InvalidPickup, NotYourPickup, PickupNotFound, TransitionNotAllowed
from pickups.events import PickupBooked, PickupStateChanged
from pickups.models import Pickup, PickupChange
from pickups.queries import PickupFilter, PickupQueries
from pickups.references import is_valid
from pickups.schemas import PickupRequest, StateChange
from pickups.service import PickupService
from tests.integration.appkit import Kit, app_kit

# 10:00 in Shanghai: a pickup 11:00–13:00 the same day is in the future and inside the day
NOW = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)


@dataclass
class Station:
    code: str


@dataclass
class Opening:
    open: bool
    closes_at: datetime | None
    next_open: datetime | None


class FakeStations:
    def __init__(self) -> None:
        self.serves: dict[str, str] = {"100020": "PEK01", "200120": "SHA01"}
        self.delay = 0.0
        self.hours: Opening | None = None
        self.asked: list[str] = []

    async def serving(self, postal_code: str) -> Station | None:
        self.asked.append(postal_code)
        await asyncio.sleep(self.delay)
        code = self.serves.get(postal_code)
        return Station(code) if code else None

    async def opening(self, station_code: str, at: datetime) -> Opening | None:
        return self.hours


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Parts:
    service: PickupService
    stations: FakeStations
    clock: Clock
    events: list[Any]
    bus: EventBus


@pytest.fixture
async def parts(db: Database) -> Parts:
    bus, events = EventBus(), []
    bus.subscribe(PickupBooked, events.append)
    bus.subscribe(PickupStateChanged, events.append)
    stations, clock = FakeStations(), Clock()
    rules = PickupRules.load().model_copy(update={"station_lookup_timeout": 0.3})
    return Parts(PickupService(db, bus, stations, rules, hours=stations, clock=clock), stations, clock, events, bus)


def request(postal_code: str = "100020", **changes: Any) -> PickupRequest:
    body: dict[str, Any] = {
        "name": "Zhang Wei",
        "phone": "138 0013 8000",
        "address": "12 Jianguo Road, Beijing",
        "postal_code": postal_code,
        "pieces": 2,
        "weight_kg": 3.5,
        "goods": "documents",
        "destination": "Shanghai",
        "ready_at": NOW + timedelta(hours=1),
        "close_at": NOW + timedelta(hours=3),
    }
    return PickupRequest.model_validate(body | changes)


async def history(db: Database, reference: str) -> list[tuple[str | None, str, str, str | None]]:
    async with db.session() as s:
        rows = await s.execute(
            select(PickupChange)
            .join(Pickup, Pickup.id == PickupChange.pickup_id)
            .where(Pickup.reference == reference)
            .order_by(PickupChange.id)
        )
        return [(c.from_state and c.from_state.value, c.to_state.value, c.by, c.reason) for c in rows.scalars()]


async def test_a_booking_is_assigned_to_the_serving_station_with_its_history(parts: Parts, db: Database) -> None:
    view = await parts.service.book(request(), by="1001")
    assert view.state == "assigned" and view.station_code == "PEK01" and view.unassigned_reason is None
    assert view.phone == "+8613800138000" and is_valid(view.reference)
    assert await history(db, view.reference) == [
        (None, "booked", "1001", "booked"),
        ("booked", "assigned", "1001", "station PEK01 serves 100020"),
    ]
    await parts.bus.drain()
    assert [type(e).__name__ for e in parts.events] == ["PickupBooked"]
    assert parts.events[0].state == "assigned" and parts.events[0].reference == view.reference
    again = await parts.service.by_reference(view.reference[:4] + " " + view.reference[4:])
    assert again is not None and again.reference == view.reference and again.weight_kg == 3.5


async def test_no_serving_station_leaves_the_order_booked_saying_why(parts: Parts) -> None:
    view = await parts.service.book(request("999999"), by="1001")
    assert view.state == "booked" and view.station_code is None
    assert view.unassigned_reason == "no station serves postal code 999999"


async def test_a_slow_station_finder_does_not_hold_the_booking(parts: Parts) -> None:
    parts.stations.delay = 5.0
    started = asyncio.get_running_loop().time()
    view = await parts.service.book(request(), by="1001")
    elapsed = asyncio.get_running_loop().time() - started
    assert elapsed < 1.0, elapsed
    assert view.state == "booked" and "station look-up failed" in (view.unassigned_reason or "")


async def test_references_are_unique_checked_and_not_in_sequence(parts: Parts, db: Database) -> None:
    refs = [(await parts.service.book(request(), by="1001")).reference for _ in range(30)]
    assert len(set(refs)) == 30 and all(is_valid(r) for r in refs)
    numbers = [int(r[:7]) for r in refs]
    steps = {b - a for a, b in itertools.pairwise(numbers)}
    assert len(steps) > 20  # no constant stride: the next reference is not the last plus something
    wrong_digit = refs[0][:7] + str((int(refs[0][7]) + 1) % 10)
    assert await parts.service.by_reference(wrong_digit) is None
    with pytest.raises(InvalidPickup):
        await parts.service.detail(wrong_digit)
    async with db.engine.begin() as conn:  # the database refuses a second pickup with the same reference
        with pytest.raises(Exception, match="uq_pickups_reference"):
            await conn.execute(
                text(
                    "INSERT INTO pickups (reference, state, name, phone, address, postal_code, pieces, weight_kg,"
                    " goods, destination, ready_at, close_at, booked_by, rebooks)"
                    " SELECT reference, state, name, phone, address, postal_code, pieces, weight_kg, goods,"
                    " destination, ready_at, close_at, booked_by, rebooks FROM pickups LIMIT 1"
                )
            )


async def test_a_drawn_reference_already_taken_is_drawn_again(parts: Parts, monkeypatch: pytest.MonkeyPatch) -> None:
    first = await parts.service.book(request(), by="1001")
    draws = iter([first.reference, first.reference, "31058266"])
    monkeypatch.setattr("pickups.service.new_reference", lambda: next(draws))
    second = await parts.service.book(request(), by="1001")
    assert second.reference == "31058266"


@pytest.mark.parametrize(
    ("ready", "close", "message"),
    [
        (timedelta(hours=3), timedelta(hours=1), "after the ready time"),
        (timedelta(hours=-5), timedelta(hours=-1), "already passed"),
        (timedelta(hours=1), timedelta(minutes=90), "at least 60 minutes"),
        (timedelta(days=20), timedelta(days=20, hours=2), "14 days ahead"),
        (timedelta(hours=1), timedelta(hours=23), "same day"),
        (timedelta(hours=9), timedelta(hours=11), "between 08:00 and 20:00"),
    ],
)
async def test_the_window_is_validated(parts: Parts, ready: timedelta, close: timedelta, message: str) -> None:
    with pytest.raises(InvalidPickup, match=message):
        await parts.service.book(request(ready_at=NOW + ready, close_at=NOW + close), by="1001")


async def test_the_station_day_is_kept_when_its_hours_are_known(parts: Parts) -> None:
    parts.stations.hours = Opening(open=True, closes_at=NOW + timedelta(hours=2), next_open=None)
    with pytest.raises(InvalidPickup, match="station PEK01 closes at"):
        await parts.service.book(request(), by="1001")
    parts.stations.hours = Opening(open=False, closes_at=None, next_open=NOW + timedelta(days=1))
    with pytest.raises(InvalidPickup, match="station PEK01 is closed"):
        await parts.service.book(request(), by="1001")
    parts.stations.hours = Opening(open=True, closes_at=NOW + timedelta(hours=8), next_open=None)
    assert (await parts.service.book(request(), by="1001")).state == "assigned"


async def test_bad_phone_and_unknown_customer_are_refused(parts: Parts) -> None:
    with pytest.raises(InvalidPickup, match="not a phone number"):
        await parts.service.book(request(phone="abc"), by="1001")
    with pytest.raises(InvalidPickup, match="no customer 4242"):
        await parts.service.book(request(customer_id=4242), by="1001")


async def test_transitions_follow_the_rules_and_every_change_is_kept(parts: Parts, db: Database) -> None:
    s = parts.service
    ref = (await s.book(request(), by="1001")).reference
    with pytest.raises(NotYourPickup):
        await s.change_state(ref, StateChange(to="picked_up"), by="1001", manager=False)
    with pytest.raises(InvalidPickup, match="say why"):
        await s.change_state(ref, StateChange(to="failed"), by="sup", manager=True)
    failed = await s.change_state(ref, StateChange(to="failed", reason="nobody home"), by="sup", manager=True)
    assert failed.state == "failed"
    with pytest.raises(TransitionNotAllowed, match="cannot become picked_up"):
        await s.change_state(ref, StateChange(to="picked_up"), by="sup", manager=True)
    with pytest.raises(InvalidPickup, match="new ready_at"):
        await s.change_state(ref, StateChange(to="booked"), by="sup", manager=True)
    parts.clock.now = NOW + timedelta(hours=4)  # 14:00 local: a new window the same afternoon
    rebooked = await s.change_state(
        ref,
        StateChange(
            to="booked", reason="caller asked", ready_at=NOW + timedelta(hours=5), close_at=NOW + timedelta(hours=7)
        ),
        by="sup",
        manager=True,
    )
    assert rebooked.state == "assigned" and rebooked.rebooks == 1 and rebooked.ready_at == NOW + timedelta(hours=5)
    done = await s.change_state(ref, StateChange(to="picked_up"), by="sup", manager=True)
    with pytest.raises(TransitionNotAllowed, match="none: it is final"):
        await s.change_state(ref, StateChange(to="cancelled"), by="sup", manager=True)
    assert [(h.from_state, h.to_state, h.by) for h in done.history] == [
        (None, "booked", "1001"),
        ("booked", "assigned", "1001"),
        ("assigned", "failed", "sup"),
        ("failed", "booked", "sup"),
        ("booked", "assigned", "sup"),
        ("assigned", "picked_up", "sup"),
    ]
    assert await history(db, ref) == [(h.from_state, h.to_state, h.by, h.reason) for h in done.history]
    assert done.history[2].reason == "nobody home" and done.history[3].at == NOW + timedelta(hours=4)
    await parts.bus.drain()
    changed = [(e.from_state, e.to_state) for e in parts.events if isinstance(e, PickupStateChanged)]
    assert changed == [("assigned", "failed"), ("failed", "booked"), ("booked", "assigned"), ("assigned", "picked_up")]


async def test_rebookings_are_limited(parts: Parts) -> None:
    s = parts.service
    ref = (await s.book(request(), by="1001")).reference
    window = {"ready_at": NOW + timedelta(hours=1), "close_at": NOW + timedelta(hours=3)}
    for _ in range(3):
        await s.change_state(ref, StateChange(to="failed", reason="closed"), by="sup", manager=True)
        await s.change_state(ref, StateChange(to="booked", **window), by="sup", manager=True)
    await s.change_state(ref, StateChange(to="failed", reason="closed"), by="sup", manager=True)
    with pytest.raises(TransitionNotAllowed, match="3 times already"):
        await s.change_state(ref, StateChange(to="booked", **window), by="sup", manager=True)


async def test_agents_cancel_only_their_own_and_assignment_waits_for_a_station(parts: Parts) -> None:
    s = parts.service
    ref = (await s.book(request("999999"), by="1001")).reference
    with pytest.raises(NotYourPickup, match="booked by 1001"):
        await s.change_state(ref, StateChange(to="cancelled"), by="1002", manager=False)
    with pytest.raises(TransitionNotAllowed, match="no station serves"):
        await s.change_state(ref, StateChange(to="assigned"), by="sup", manager=True)
    parts.stations.serves["999999"] = "XJ01"  # a station opens there
    assert (await s.change_state(ref, StateChange(to="assigned"), by="sup", manager=True)).station_code == "XJ01"
    cancelled = await s.change_state(ref, StateChange(to="cancelled", reason="not needed"), by="1001", manager=False)
    assert cancelled.state == "cancelled"
    with pytest.raises(PickupNotFound):
        await s.change_state("31058266", StateChange(to="cancelled"), by="sup", manager=True)


async def test_concurrent_changes_of_one_pickup_are_serialised(parts: Parts) -> None:
    s = parts.service
    ref = (await s.book(request(), by="1001")).reference
    results = await asyncio.gather(
        s.change_state(ref, StateChange(to="picked_up"), by="a", manager=True),
        s.change_state(ref, StateChange(to="cancelled"), by="b", manager=True),
        return_exceptions=True,
    )
    assert sum(isinstance(r, TransitionNotAllowed) for r in results) == 1
    final = await s.detail(ref)
    assert len(final.history) == 3  # booked, assigned, and exactly one of the two


async def test_search_by_station_state_day_and_phone_with_paging(parts: Parts, db: Database) -> None:
    s = parts.service
    for _ in range(3):
        await s.book(request(), by="1001")
    await s.book(request("200120", phone="13900139000"), by="1002")
    await s.book(
        request("999999", ready_at=NOW + timedelta(days=1, hours=1), close_at=NOW + timedelta(days=1, hours=3)),
        by="1002",
    )
    q = PickupQueries(db, s.rules)
    page = await q.search(PickupFilter(station="pek01"), page=1, size=2)
    assert page.total == 3 and len(page.items) == 2
    assert len((await q.search(PickupFilter(station="PEK01"), page=2, size=2)).items) == 1
    assert (await q.search(PickupFilter(state="booked"), 1, 50)).total == 1  # type: ignore[arg-type]
    today = NOW.astimezone(s.rules.zone).date()
    assert (await q.search(PickupFilter(day=today), 1, 50)).total == 4
    assert (await q.search(PickupFilter(day=today + timedelta(days=1)), 1, 50)).total == 1
    assert (await q.search(PickupFilter(phone="+86 139 0013 9000"), 1, 50)).total == 1
    assert (await q.search(PickupFilter(booked_by="1002"), 1, 50)).total == 2


@pytest.fixture
async def kit(db: Database, pg_url: str, tmp_path: Path) -> Any:
    async with app_kit(pg_url, tmp_path) as k:
        yield k


async def test_the_api_books_scopes_lists_and_guards_changes(kit: Kit) -> None:
    a, b, sup = await kit.login("1001"), await kit.login("1002"), await kit.login("demo-supervisor")
    c = kit.client
    demo = (await c.get("/api/pickups/3105 8266", headers=b)).json()  # the reference as it is read out
    assert demo["state"] == "assigned" and demo["booked_by"] == "1001" and len(demo["history"]) == 2
    assert (await c.get("/api/pickups/31058267", headers=a)).status_code == 422  # check digit
    assert (await c.get("/api/pickups/31058275", headers=a)).status_code in (404, 422)
    mine = (await c.get("/api/pickups", headers=a)).json()
    assert {p["booked_by"] for p in mine["items"]} == {"1001"} and mine["total"] == 2
    assert (await c.get("/api/pickups", headers=sup)).json()["total"] == 3
    assert (await c.get("/api/pickups", params={"state": "booked"}, headers=sup)).json()["total"] == 1
    r = await c.post("/api/pickups/31058266/state", json={"to": "cancelled"}, headers=b)
    assert r.status_code == 403 and r.json()["error"] == "not_your_pickup"
    r = await c.post("/api/pickups/31058266/state", json={"to": "picked_up"}, headers=a)
    assert r.status_code == 403
    r = await c.post("/api/pickups/31058266/state", json={"to": "booked"}, headers=sup)
    assert r.status_code == 409 and r.json()["error"] == "transition_not_allowed"
    r = await c.post("/api/pickups/31058266/state", json={"to": "cancelled", "reason": "changed mind"}, headers=a)
    assert r.status_code == 200 and r.json()["history"][-1]["by"] == "1001"
    bad = {
        "name": "N",
        "phone": "1",
        "address": "1 Road",
        "postal_code": "100020",
        "pieces": 1,
        "weight_kg": 1,
        "goods": "g",
        "destination": "d",
        "ready_at": "2026-01-01T10:00:00",
        "close_at": "2026-01-01T12:00:00",
    }
    assert (await c.post("/api/pickups", json=bad, headers=a)).status_code == 422  # no time zone


async def test_a_booking_is_linked_to_the_customer_whose_number_it_gives(parts: Parts, db: Database) -> None:
    directory = CustomerDirectory(db)
    parts.service.customers = lambda: directory
    async with db.session() as s:
        zhang = Customer(name="Zhang Wei", phone="+8613800138000", tier=Tier.vip)
        zhang.phones = [CustomerPhone(number="+8613800138000", is_primary=True)]
        s.add(zhang)
        await s.commit()
    linked = await parts.service.book(request(), by="1001")  # "138 0013 8000": his number
    assert linked.customer_id == zhang.id
    stranger = await parts.service.book(request(phone="139 1234 5678"), by="1001")
    assert stranger.customer_id is None

    class Down:
        async def card_by_phone(self, number: str | None) -> None:
            raise ConnectionError("customer database away")

    parts.service.customers = lambda: Down()  # type: ignore[assignment,return-value]
    unlinked = await parts.service.book(request(), by="1001")  # booked all the same, just not linked
    assert unlinked.customer_id is None and unlinked.state == "assigned"
