"""The floor's statistics over sequences of facts: service level, ASA, abandon rate, agents' states and AHT,
alerts crossing and clearing, the day's rollover, and counting each call once whatever the sources."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from floor.config import FloorConfig, ThresholdOverride, Thresholds
from floor.stats import EndedCall, FloorStats

T0 = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai


class Clock:
    def __init__(self) -> None:
        self.t = T0

    def __call__(self) -> datetime:
        return self.t

    def advance(self, seconds: float) -> datetime:
        self.t += timedelta(seconds=seconds)
        return self.t


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def stats(clock: Clock) -> FloorStats:
    config = FloorConfig(
        timezone="Asia/Shanghai",
        defaults=Thresholds(service_level_seconds=20, service_level_target=0.8, max_longest_wait=60, min_calls=2),
        queues={"vip": ThresholdOverride(service_level_seconds=10)},
    )
    return FloorStats(config, clock)


def answered_call(stats: FloorStats, clock: Clock, call_id: str, agent: str, wait: float, talk: float) -> None:
    stats.call_queued(call_id, "support", clock())
    clock.advance(wait)
    stats.offered_to(agent, call_id)
    stats.call_answered(call_id, agent, "support", None)
    clock.advance(talk)
    stats.call_ended(EndedCall(call_id, "support", True, True, wait, ((agent, talk),)), clock())


def test_service_level_asa_and_abandon_rate(stats: FloorStats, clock: Clock) -> None:
    stats.member_added("support", "1001")
    answered_call(stats, clock, "a", "1001", wait=5, talk=60)
    answered_call(stats, clock, "b", "1001", wait=30, talk=120)  # outside the 20 s threshold
    stats.call_queued("c", "support", clock())
    clock.advance(40)
    stats.call_ended(EndedCall("c", "support", True, False, 40), clock())  # the caller gave up
    view = stats.queue_view("support")
    assert (view["offered"], view["answered"], view["answered_in_sl"], view["lost"]) == (3, 2, 1, 1)
    assert view["service_level"] == pytest.approx(1 / 3, abs=1e-4)
    assert view["asa"] == 17.5
    assert view["abandon_rate"] == pytest.approx(1 / 3, abs=1e-4)
    assert view["waiting"] == 0 and view["longest_wait"] == 0
    agent = stats.agent_view("1001")
    assert (agent["handled"], agent["aht"], agent["state"]) == (2, 90.0, "logged_out")


def test_a_queue_threshold_overrides_the_default(stats: FloorStats, clock: Clock) -> None:
    stats.call_queued("v", "vip", clock())
    clock.advance(15)
    stats.call_answered("v", "1001", "vip", None)
    stats.call_ended(EndedCall("v", "vip", True, True, 15), clock())
    assert stats.queue_view("vip")["answered_in_sl"] == 0  # 15 s > the vip queue's 10 s
    assert stats.queue_view("vip")["service_level_seconds"] == 10


def test_waiting_callers_and_the_longest_wait(stats: FloorStats, clock: Clock) -> None:
    stats.call_queued("x", "support", clock())
    clock.advance(12)
    stats.call_queued("y", "support", clock())
    clock.advance(3)
    view = stats.queue_view("support")
    assert view["waiting"] == 2 and view["longest_wait"] == 15.0
    assert view["oldest_since"] == T0.isoformat()
    stats.call_answered("x", "1002", None, None)  # the queue and the wait come from the join
    view = stats.queue_view("support")
    assert view["waiting"] == 1 and view["longest_wait"] == 3.0 and view["asa"] == 15.0


def test_agent_states_follow_calls_and_the_acd(stats: FloorStats, clock: Clock) -> None:
    stats.member_added("support", "1001")
    stats.agent_state("1001", "available", None, clock())
    assert stats.queue_view("support")["agents"]["available"] == 1
    stats.call_queued("k", "support", clock())
    clock.advance(2)
    stats.offered_to("1001", "k")
    assert stats.agent_view("1001")["state"] == "ringing"
    assert stats.agent_view("1001")["since"] == clock().isoformat()
    clock.advance(3)
    stats.call_answered("k", "1001", "support", 5)
    assert stats.agent_view("1001")["state"] == "on_call"
    assert stats.queue_view("support")["agents"]["on_call"] == 1
    stats.call_held("1001", "k", True)
    assert stats.agent_view("1001")["state"] == "on_hold"
    stats.call_held("1001", "k", False)
    assert stats.agent_view("1001")["state"] == "on_call"
    stats.agent_state("1001", "wrap_up", None, clock())  # a state the ACD knows better than the calls
    assert stats.agent_view("1001")["state"] == "wrap_up"
    stats.agent_state("1001", "available", None, clock())
    stats.call_ended(EndedCall("k", "support", True, True, 5, (("1001", 30.0),)), clock())
    assert stats.agent_view("1001")["state"] == "available"
    stats.offered_to("1001", "m")
    stats.offer_cancelled("1001", "m")  # rang, not answered
    assert stats.agent_view("1001")["state"] == "available"
    stats.agent_state("1001", "paused", "lunch", clock())
    assert stats.agent_view("1001")["pause_reason"] == "lunch"
    assert stats.queue_view("support")["agents"]["paused"] == 1


def test_a_transfer_frees_the_first_agent_and_counts_both(stats: FloorStats, clock: Clock) -> None:
    stats.call_queued("t", "support", clock())
    stats.call_answered("t", "1001", "support", 0)
    clock.advance(20)
    stats.call_transferred("t", "1001")
    assert stats.agent_view("1001")["state"] != "on_call"
    stats.call_answered("t", "1002", "support", 0)  # the second answer is not a second answered call
    clock.advance(40)
    stats.call_ended(EndedCall("t", "support", True, True, 0, (("1001", 20.0), ("1002", 40.0))), clock())
    assert stats.queue_view("support")["answered"] == 1
    assert (stats.agent_view("1001")["handled"], stats.agent_view("1002")["aht"]) == (1, 40.0)


def test_each_call_counts_once_from_rows_and_live_events(stats: FloorStats, clock: Clock) -> None:
    row = EndedCall("r", "support", True, True, 4, (("1001", 10.0),))
    stats.load_day([(row, clock())])
    stats.call_ended(row, clock())  # the live event of a call already read from the rows
    stats.load_day([(row, clock())])
    assert stats.queue_view("support")["answered"] == 1 and stats.agent_view("1001")["handled"] == 1
    yesterday = EndedCall("old", "support", True, False, 9)
    stats.call_ended(yesterday, clock() - timedelta(days=1))
    assert stats.queue_view("support")["lost"] == 0


def test_asterisk_rebuild_sets_members_and_waiting(stats: FloorStats, clock: Clock) -> None:
    stats.call_queued("gone", "support", clock())
    stats.load_asterisk({"support": {"1001", "1002"}}, {"w1": ("support", 30.0)})
    view = stats.queue_view("support")
    assert view["waiting"] == 1 and view["longest_wait"] == 30.0  # "gone" left while we were away
    assert stats.queues_of("1002") == {"support"}
    stats.member_removed("support", "1002")
    assert stats.queues_of("1002") == set()


def test_alerts_cross_and_clear(stats: FloorStats, clock: Clock) -> None:
    stats.call_queued("w", "support", clock())
    clock.advance(61)
    raised = stats.check_alerts()
    assert [(a.queue, a.kind, a.raised) for a in raised] == [("support", "longest_wait", True)]
    assert stats.check_alerts() == []  # raised once, not on every check
    assert stats.queue_view("support")["alerts"] == ["longest_wait"]
    stats.call_answered("w", "1001", "support", None)  # answered after 61 s: outside the service level
    stats.call_ended(EndedCall("w", "support", True, True, 61), clock())
    changes = [(a.kind, a.raised) for a in stats.check_alerts()]
    assert ("longest_wait", False) in changes
    assert ("service_level", True) not in changes  # one finished call: below min_calls
    stats.call_queued("z", "support", clock())
    stats.call_ended(EndedCall("z", "support", True, False, 1), clock())
    assert [(a.kind, a.raised, a.value) for a in stats.check_alerts()] == [("service_level", True, 0.0)]


def test_the_day_rolls_over_at_local_midnight(stats: FloorStats, clock: Clock) -> None:
    answered_call(stats, clock, "d", "1001", wait=1, talk=1)
    stats.call_queued("still", "support", clock())
    clock.t = datetime(2026, 11, 24, 15, 59, tzinfo=UTC)  # 23:59 in Shanghai
    assert not stats.roll_day()
    clock.t = datetime(2026, 11, 24, 16, 1, tzinfo=UTC)  # 00:01
    assert stats.roll_day().queues == {"support"}
    view = stats.queue_view("support")
    assert (view["answered"], view["offered"], view["waiting"]) == (0, 0, 1)
    assert stats.agent_view("1001")["handled"] == 0
