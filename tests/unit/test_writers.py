"""The queue-event writer's in-memory part (no database: nothing is flushed here)."""

from __future__ import annotations

import pytest

from cms import writers
from cms.writers import QueueEventWriter
from tests.unit.fakes import FakeAmi


def make_writer() -> tuple[QueueEventWriter, FakeAmi]:
    ami = FakeAmi()
    writer = QueueEventWriter(db=None)  # type: ignore[arg-type]
    for name in writers.QUEUE_EVENTS:
        ami.on(name, writer.on_event)
    return writer, ami


async def test_queue_events_become_rows() -> None:
    writer, ami = make_writer()
    ami.emit(
        "AgentCalled",
        Queue="support",
        Uniqueid="1.1",
        Interface="PJSIP/1001",
        CallerIDNum="13800138000",
        HoldTime="",
        Exten="s",
    )
    ami.emit("QueueMemberAdded", Queue="support", MemberName="Alice", Paused="0")
    ami.emit("Hangup", Uniqueid="1.1")  # not a queue event
    assert [row["event"] for row in writer.pending] == ["AgentCalled", "QueueMemberAdded"]
    called, added = writer.pending
    assert (called["queue"], called["uniqueid"], called["agent"]) == ("support", "1.1", "1001")
    assert called["data"] == {"CallerIDNum": "13800138000"}  # empty and non-queue fields dropped
    assert called["at"].tzinfo is not None
    assert added["agent"] == "Alice"
    assert added["data"] == {"Paused": "0"}
    assert writer.wakeup.is_set()


async def test_backlog_drops_the_oldest(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(writers, "MAX_BACKLOG", 3)
    writer, ami = make_writer()
    for i in range(5):
        ami.emit("QueueCallerJoin", Uniqueid=str(i), Queue="support")
    assert [row["uniqueid"] for row in writer.pending] == ["2", "3", "4"]
    assert writer.dropped == 2


def test_queue_event_time_is_asterisks_own() -> None:
    from datetime import UTC, datetime

    from cms.writers import event_time

    assert event_time({"Timestamp": "1795468578.123456"}) == datetime.fromtimestamp(1795468578.123456, UTC)
    before = datetime.now(UTC)
    for missing in ({}, {"Timestamp": "garbage"}, {"Timestamp": "1e400"}):
        assert event_time(missing) >= before
