"""Opening hours over a clock: weekdays, lunch breaks, Sundays closed, holidays, next opening."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from hotline.hours import Opening, Schedule, opening

SH = ZoneInfo("Asia/Shanghai")
DAY = [(time(8, 30), time(12)), (time(13), time(18, 30))]
SCHEDULE = Schedule(
    "Asia/Shanghai",
    weekly={0: DAY, 1: DAY, 2: DAY, 3: DAY, 4: DAY, 5: [(time(9), time(12))]},  # Sunday closed
    holidays={date(2026, 12, 2): [], date(2026, 12, 3): [(time(10), time(14))]},
)


def at(d: int, h: int, m: int = 0, month: int = 11) -> datetime:
    return datetime(2026, month, d, h, m, tzinfo=SH)


def test_open_in_a_weekday_interval_until_its_end() -> None:
    # 2026-11-23 is a Monday
    assert opening(SCHEDULE, at(23, 9)) == Opening(True, at(23, 12), None)
    assert opening(SCHEDULE, at(23, 17, 59)) == Opening(True, at(23, 18, 30), None)


def test_lunch_break_and_after_hours() -> None:
    assert opening(SCHEDULE, at(23, 12, 30)) == Opening(False, None, at(23, 13))
    assert opening(SCHEDULE, at(23, 12)) == Opening(False, None, at(23, 13))  # the end is exclusive
    assert opening(SCHEDULE, at(23, 19)) == Opening(False, None, at(24, 8, 30))
    assert opening(SCHEDULE, at(23, 6)) == Opening(False, None, at(23, 8, 30))


def test_next_opening_across_the_weekend() -> None:
    # Saturday 28th after noon, Sunday closed: Monday 30th 08:30
    assert opening(SCHEDULE, at(28, 12, 5)) == Opening(False, None, at(30, 8, 30))
    assert opening(SCHEDULE, at(29, 10)) == Opening(False, None, at(30, 8, 30))
    assert opening(SCHEDULE, at(28, 10)).open


def test_holidays_close_or_change_the_hours() -> None:
    closed = opening(SCHEDULE, at(2, 10, month=12))  # a Wednesday, closed for the holiday
    assert closed == Opening(False, None, at(3, 10, month=12))
    assert opening(SCHEDULE, at(3, 13, month=12)) == Opening(True, at(3, 14, month=12), None)
    assert opening(SCHEDULE, at(3, 15, month=12)) == Opening(False, None, at(4, 8, 30, month=12))


def test_any_time_zone_in_gives_the_station_zone_out() -> None:
    utc = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)  # 09:00 in Shanghai
    result = opening(SCHEDULE, utc)
    assert result.open and result.closes_at == at(23, 12)
    assert result.closes_at is not None and result.closes_at.utcoffset() == SH.utcoffset(result.closes_at)
    with pytest.raises(ValueError):
        opening(SCHEDULE, datetime(2026, 11, 23, 9))


def test_adjacent_intervals_run_on_and_a_station_never_open_has_no_next_opening() -> None:
    joined = Schedule("Asia/Shanghai", weekly={0: [(time(12), time(18)), (time(8), time(12))]})
    assert opening(joined, at(23, 9)) == Opening(True, at(23, 18), None)
    assert opening(Schedule("Asia/Shanghai", weekly={}), at(23, 9)) == Opening(False, None, None)


def test_postal_code_prefixes_longest_first() -> None:
    from shipments.services.stations import postal_prefixes

    assert postal_prefixes("100 020") == ["100020", "10002", "1000", "100", "10"]
    assert postal_prefixes("sw1a-1aa") == ["SW1A1AA", "SW1A1A", "SW1A1", "SW1A", "SW1", "SW"]
    assert postal_prefixes("1") == [] and postal_prefixes("10002#") == []
