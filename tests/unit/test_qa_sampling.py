"""QA sampling: reproducible (same month, agent, seed and calls → same sample, in any order), uniform over the
calls, and a top-up keeps what was drawn."""

from __future__ import annotations

import random
from collections import Counter
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from qa.sampling import Month, choose, sample_key
from recordings.interface import RecordedCall

AT = datetime(2026, 11, 3, 9, tzinfo=UTC)


def calls(n: int, agent: str = "1001", first: int = 1) -> list[RecordedCall]:
    return [
        RecordedCall(
            recording_id=i,
            call_id=f"c{i}",
            agent=agent,
            queue="support",
            customer_id=None,
            started_at=AT,
            duration_seconds=60,
        )
        for i in range(first, first + n)
    ]


def ids(chosen: list[tuple[str, RecordedCall]]) -> list[int]:
    return [c.recording_id for _, c in chosen]


NOV = Month(2026, 11)


def test_the_same_month_agent_and_seed_give_the_same_calls_in_any_order() -> None:
    pool = calls(40)
    first = ids(choose(pool, 5, "s", NOV, "1001"))
    shuffled = pool[:]
    random.Random(7).shuffle(shuffled)
    assert ids(choose(shuffled, 5, "s", NOV, "1001")) == first
    assert len(set(first)) == 5 and set(first) <= {c.recording_id for c in pool}
    # the key is a pure function of its inputs: a fixed value, stable across machines and Python versions
    assert sample_key("s", NOV, "1001", 1) == sample_key("s", Month(2026, 11), "1001", 1)
    assert len(sample_key("s", NOV, "1001", 1)) == 64


def test_another_seed_month_or_agent_draws_differently() -> None:
    pool = calls(40)
    base = set(ids(choose(pool, 5, "s", NOV, "1001")))
    assert set(ids(choose(pool, 5, "t", NOV, "1001"))) != base
    assert set(ids(choose(pool, 5, "s", Month(2026, 12), "1001"))) != base
    assert set(ids(choose(pool, 5, "s", NOV, "1002"))) != base


def test_fewer_calls_than_the_sample_takes_them_all() -> None:
    assert sorted(ids(choose(calls(3), 5, "s", NOV, "1001"))) == [1, 2, 3]
    assert choose([], 5, "s", NOV, "1001") == []


def test_a_top_up_keeps_the_calls_drawn_and_adds_the_smallest_keys_of_the_rest() -> None:
    early = calls(4)  # drawn mid-month: all four
    assert sorted(ids(choose(early, 5, "s", NOV, "1001"))) == [1, 2, 3, 4]
    later = calls(30)
    added = ids(choose(later, 5, "s", NOV, "1001", already=[1, 2, 3, 4]))
    rest = sorted(later[4:], key=lambda c: sample_key("s", NOV, "1001", c.recording_id))
    assert added == [rest[0].recording_id]
    assert choose(later, 5, "s", NOV, "1001", already=[1, 2, 3, 4, 9]) == []


def test_every_call_is_equally_likely_to_be_drawn() -> None:
    """4000 draws of 5 among 20 calls (one per seed): each call is expected 1000 times; the chi-square
    statistic over 19 degrees of freedom stays under 43.8 (its 0.1 % critical value) for a uniform draw."""
    pool = calls(20)
    counts: Counter[int] = Counter()
    draws = 4000
    for i in range(draws):
        counts.update(ids(choose(pool, 5, f"seed-{i}", NOV, "1001")))
    expected = draws * 5 / 20
    chi2 = sum((counts[c.recording_id] - expected) ** 2 / expected for c in pool)
    assert sum(counts.values()) == draws * 5
    assert chi2 < 43.8, (chi2, counts)
    assert min(counts.values()) > 0.85 * expected and max(counts.values()) < 1.15 * expected


def test_months_are_bounded_in_the_configured_zone() -> None:
    zone = ZoneInfo("Asia/Shanghai")
    since, until = Month(2026, 12).bounds(zone)
    assert since == datetime(2026, 11, 30, 16, tzinfo=UTC) and until == datetime(2026, 12, 31, 16, tzinfo=UTC)
    assert Month.of(datetime(2026, 11, 30, 17, tzinfo=UTC), zone) == Month(2026, 12)  # 01:00 on Dec 1 in Beijing
    assert Month(2026, 1).previous() == Month(2025, 12) and Month(2026, 12).next() == Month(2027, 1)
    assert str(Month.parse("2026-03")) == "2026-03"
    with pytest.raises(ValueError):
        Month.parse("2026-13")
