"""Is something with opening hours (a station, a queue, the hotline) open at a given instant, until when,
and when does it open next (a pure function).

A week is a list of intervals per weekday (none: closed that day; two: a lunch break). A holiday replaces
its date's weekday hours: closed all day, or its own intervals. Times are local wall-clock times in the
schedule's time zone; the answers are aware datetimes in that zone.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

Interval = tuple[time, time]
HORIZON_DAYS = 400  # closed for longer than this has no "next opening"


@dataclass(frozen=True)
class Schedule:
    timezone: str
    weekly: Mapping[int, Sequence[Interval]]  # weekday (0 = Monday) → intervals
    holidays: Mapping[date, Sequence[Interval]] = field(default_factory=dict)  # empty sequence: closed

    def intervals(self, day: date) -> list[Interval]:
        spans = self.holidays[day] if day in self.holidays else self.weekly.get(day.weekday(), ())
        return sorted(spans)


@dataclass(frozen=True)
class Opening:
    open: bool
    closes_at: datetime | None  # when open: the end of the current opening (joined intervals run on)
    next_open: datetime | None  # when closed: the next opening within the horizon


def opening(schedule: Schedule, at: datetime) -> Opening:
    if at.tzinfo is None:
        raise ValueError("an aware datetime is needed")
    zone = ZoneInfo(schedule.timezone)
    local = at.astimezone(zone)
    spans = _spans(schedule, zone, local.date() - timedelta(days=1))  # yesterday: in case of a late interval
    for start, end in spans:
        if start <= local < end:
            closes = end
            for next_start, next_end in spans:  # 08:00–12:00 then 12:00–18:00 is open until 18:00
                if next_start > closes:
                    break
                closes = max(closes, next_end)
            return Opening(True, closes, None)
        if start > local:
            return Opening(False, None, start)
    return Opening(False, None, None)


def _spans(schedule: Schedule, zone: ZoneInfo, first: date) -> Iterator[tuple[datetime, datetime]]:
    """The opening intervals from ``first`` on, in order, as aware datetimes (lazily: most answers need a day)."""
    for n in range(HORIZON_DAYS):
        day = first + timedelta(days=n)
        for start, end in schedule.intervals(day):
            yield datetime.combine(day, start, zone), datetime.combine(day, end, zone)
