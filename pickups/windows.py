"""When a courier may come: the ready/close window of a pickup, checked against the clock and the day."""

from __future__ import annotations

from datetime import datetime, timedelta

from pickups.config import PickupRules
from pickups.errors import InvalidPickup
from pickups.interface import OpeningHours


def check_window(ready_at: datetime, close_at: datetime, now: datetime, rules: PickupRules) -> None:
    """Close after ready by the minimum window, in the future, not too far ahead, and — as long as the
    station's own hours are unknown — inside the local working day (``day_starts``–``day_ends``).

    A ready time already past means "ready now": the window counts from now.
    """
    minimum = timedelta(minutes=rules.min_window_minutes)
    if close_at <= ready_at:
        raise InvalidPickup("the close time must be after the ready time")
    if close_at <= now:
        raise InvalidPickup("the close time has already passed")
    start = max(ready_at, now)
    if close_at - start < minimum:
        raise InvalidPickup(f"a courier needs at least {rules.min_window_minutes} minutes between ready and close")
    if ready_at > now + timedelta(days=rules.max_days_ahead):
        raise InvalidPickup(f"a pickup can be booked at most {rules.max_days_ahead} days ahead")
    zone = rules.zone
    local_start, local_close = start.astimezone(zone), close_at.astimezone(zone)
    if local_start.date() != local_close.date():
        raise InvalidPickup("the ready and close times must be on the same day")
    if not (rules.day_starts <= local_start.time() and local_close.time() <= rules.day_ends):
        raise InvalidPickup(
            f"pickups are made between {rules.day_starts:%H:%M} and {rules.day_ends:%H:%M} ({rules.timezone})"
        )


def check_station_day(code: str, ready_at: datetime, close_at: datetime, now: datetime, hours: OpeningHours) -> None:
    """Inside the serving station's day: open when the parcels are ready (or now), closing no earlier
    than the close time."""
    start = max(ready_at, now)
    if not hours.open:
        opens = f"; it opens {hours.next_open.isoformat()}" if hours.next_open else ""
        raise InvalidPickup(f"station {code} is closed at {start.isoformat()}{opens}")
    if hours.closes_at is not None and close_at > hours.closes_at:
        raise InvalidPickup(f"station {code} closes at {hours.closes_at.isoformat()}: choose an earlier close time")
