"""The floor's feed: bus events and app_queue's membership events drive the statistics, a reconnection
rebuilds members and waiting callers from QueueStatus, and crossing a threshold publishes an alert."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from acd.events import AgentStateChanged
from cms.interface import EndedCall
from cti.events import CallAnswered, CallQueued
from floor.config import FloorConfig, Thresholds
from floor.events import QueueAlertCleared, QueueAlertRaised
from floor.feed import DAY_RETRY, Floor
from floor.stats import Changes, FloorStats
from hotline.bus import EventBus
from tests.unit.fakes import FakeAmi, Recorder

T = datetime(2026, 11, 24, 2, tzinfo=UTC)


class Clock:
    t = T

    def __call__(self) -> datetime:
        return self.t


def make(answers: dict[str, Any] | None = None) -> tuple[Floor, EventBus, FakeAmi, Clock, list[Changes]]:
    clock = Clock()
    config = FloorConfig(defaults=Thresholds(max_longest_wait=30))
    bus, ami = EventBus(), FakeAmi(answers)
    floor = Floor(FloorStats(config, clock), bus, ami)  # type: ignore[arg-type]
    floor.subscribe()
    seen: list[Changes] = []
    floor.listeners.append(seen.append)
    return floor, bus, ami, clock, seen


async def test_membership_states_and_calls_reach_the_listeners() -> None:
    floor, bus, ami, _, seen = make()
    ami.emit("QueueMemberAdded", Queue="support", Interface="PJSIP/1001", StateInterface="PJSIP/1001")
    bus.publish(AgentStateChanged(agent="1001", state="available", since=T))
    bus.publish(CallQueued(call_id="c1", queue="support", at=T))
    assert [c.queues for c in seen] == [{"support"}, {"support"}, {"support"}]
    assert floor.stats.queue_view("support")["agents"]["available"] == 1
    ami.emit("QueueMemberRemoved", Queue="support", Interface="PJSIP/1001")
    assert floor.stats.queues_of("1001") == set()


async def test_a_reconnection_rebuilds_members_and_waiting_callers() -> None:
    status = {
        "events": [
            {"Event": "QueueParams", "Queue": "support"},
            {"Event": "QueueMember", "Queue": "support", "StateInterface": "PJSIP/1002", "Location": "PJSIP/1002"},
            {"Event": "QueueEntry", "Queue": "support", "Uniqueid": "u1", "Linkedid": "u1", "Wait": "42"},
            {"Event": "QueueParams", "Queue": "billing"},
        ]
    }
    floor, _, ami, _, _ = make({"QueueStatus": status})
    await ami.connect()
    view = floor.stats.queue_view("support")
    assert view["waiting"] == 1 and view["longest_wait"] == 42.0
    assert floor.stats.queues_of("1002") == {"support"} and "billing" in floor.stats.queues


async def test_a_long_wait_raises_then_clears_an_alert() -> None:
    floor, bus, _, clock, _ = make()
    alerts = Recorder(bus, QueueAlertRaised, QueueAlertCleared)
    bus.publish(CallQueued(call_id="c1", queue="support", at=T))
    clock.t = T + timedelta(seconds=31)
    await floor.on_tick()
    raised = alerts.one(QueueAlertRaised)
    assert (raised.queue, raised.kind, raised.threshold) == ("support", "longest_wait", 30)
    bus.publish(CallAnswered(agent="1001", call_id="c1", queue="support", wait_seconds=31.0))
    cleared = alerts.one(QueueAlertCleared)
    assert (cleared.queue, cleared.kind) == ("support", "longest_wait")


class Rows:
    def __init__(self, fail: bool) -> None:
        self.fail = fail
        self.asked = 0

    async def ended_since(self, since: datetime) -> list[EndedCall]:
        self.asked += 1
        if self.fail:
            raise ConnectionRefusedError("database down")
        return [
            EndedCall(
                call_id="r1",
                queue="support",
                agent="1001",
                outcome="answered",
                queued_at=T,
                answered_at=T,
                ended_at=T,
                wait_seconds=3.0,
                talk_seconds=30.0,
                handled_by=[("1001", 30.0)],
            )
        ]


async def test_the_tick_reads_todays_calls_apart_and_again_while_the_database_is_away() -> None:
    rows = Rows(fail=True)
    floor = Floor(FloorStats(FloorConfig(), Clock()), EventBus(), None, rows)
    await floor.on_tick()
    assert floor._loading is not None
    await floor._loading
    assert rows.asked == 1 and not floor.day_loaded
    floor._day_tried -= DAY_RETRY  # as if the retry pause had passed
    rows.fail = False
    await floor.on_tick()
    await floor._loading
    assert floor.day_loaded and floor.stats.queue_view("support")["answered"] == 1
    await floor.on_tick()
    assert rows.asked == 2  # read once it worked
