"""Agent desk connections: per-connection bounded outboxes fed from the bus."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

from acd.events import AgentStateChanged
from cti import hub as hub_module
from cti.events import (
    AgentOffered,
    CallAnswered,
    CallEnded,
    CallRecord,
    LegRecord,
    LegRole,
    OfferCancelled,
    ScreenPop,
)
from cti.hub import AgentHub
from hotline.bus import EventBus


def test_push_reaches_every_connection_of_that_agent_only() -> None:
    hub = AgentHub(EventBus())
    first, second = hub.connect("1001"), hub.connect("1001")
    other = hub.connect("1002")
    assert hub.connected("1001") == 2
    assert hub.push("1001", {"type": "x"}) == 2
    assert first.get_nowait() == second.get_nowait() == {"type": "x"}
    assert other.empty()


def test_push_to_nobody_delivers_nothing() -> None:
    hub = AgentHub(EventBus())
    assert hub.push("1009", {"type": "x"}) == 0
    assert hub.push(None, {"type": "x"}) == 0
    assert hub.connected("1009") == 0
    assert "1009" not in hub.outboxes


def test_full_outbox_drops_without_blocking_the_others() -> None:
    hub = AgentHub(EventBus())
    stalled, healthy = hub.connect("1001"), hub.connect("1001")
    for i in range(hub_module.OUTBOX):
        assert hub.push("1001", {"n": i}) == 2
        healthy.get_nowait()
    assert stalled.full()
    assert hub.push("1001", {"n": "late"}) == 1
    assert healthy.get_nowait() == {"n": "late"}
    assert stalled.qsize() == hub_module.OUTBOX
    assert stalled.get_nowait() == {"n": 0}  # the oldest messages are kept, the newest dropped


def test_disconnect_cleans_up() -> None:
    hub = AgentHub(EventBus())
    a, b = hub.connect("1001"), hub.connect("1001")
    hub.disconnect("1001", a)
    assert hub.connected("1001") == 1
    assert hub.push("1001", {"type": "x"}) == 1
    assert a.empty()
    hub.disconnect("1001", b)
    assert hub.connected("1001") == 0
    assert "1001" not in hub.outboxes
    hub.disconnect("1001", b)  # twice is harmless
    assert "1001" not in hub.outboxes


def _pop(call_id: str = "1.1", agent: str = "1001") -> ScreenPop:
    return ScreenPop(
        call_id=call_id,
        agent=agent,
        caller="13800138000",
        known=False,
        customer=None,
        lookup_failed=False,
        queue="support",
        intent="agent",
        ivr_path="main:0",
        recent_contacts=[],
        priority=0,
        waited_seconds=1.0,
        sent_at=datetime(2026, 11, 24, tzinfo=UTC),
    )


def _ended(call_id: str, agent: str | None, talk: float | None = None) -> CallEnded:
    t = datetime(2026, 11, 24, tzinfo=UTC)
    legs = [LegRecord(uniqueid=f"{call_id}9", role=LegRole.agent, agent=agent, started_at=t)] if agent else []
    outcome = "answered" if agent else "abandoned"
    return CallEnded(
        record=CallRecord(call_id=call_id, agent=agent, started_at=t, outcome=outcome, talk_seconds=talk, legs=legs)
    )


def _drain(desk: asyncio.Queue[dict[str, Any]]) -> list[dict[str, Any]]:
    return [desk.get_nowait() for _ in range(desk.qsize())]


def test_bus_events_reach_the_desk_in_order() -> None:
    bus = EventBus()
    hub = AgentHub(bus)
    hub.subscribe()
    desk = hub.connect("1001")
    bus.publish(AgentOffered(pop=_pop()))
    bus.publish(OfferCancelled(agent="1001", call_id="1.1", reason="abandoned"))
    bus.publish(CallAnswered(agent="1002", call_id="1.1"))
    bus.publish(AgentStateChanged(agent="1001", state="paused", since=datetime(2026, 11, 24, tzinfo=UTC)))
    bus.publish(_ended("1.1", "1001", 12.5))
    bus.publish(_ended("1.2", None))  # nobody answered: nobody told
    received = _drain(desk)
    assert [m["type"] for m in received] == ["screen_pop", "pop_cancelled", "agent_state", "call_ended"]
    assert received[0]["call_id"] == "1.1" and received[0]["agent"] == "1001" and received[0]["known"] is False
    assert received[1] == {"type": "pop_cancelled", "agent": "1001", "call_id": "1.1", "reason": "abandoned"}
    assert received[2]["state"] == "paused"
    assert received[3] == {"type": "call_ended", "call_id": "1.1", "outcome": "answered", "talk_seconds": 12.5}


def test_a_desk_that_reconnects_while_the_phone_rings_gets_the_pop_again() -> None:
    bus = EventBus()
    hub = AgentHub(bus)
    hub.subscribe()
    first = hub.connect("1001")
    bus.publish(AgentOffered(pop=_pop()))
    hub.disconnect("1001", first)  # the browser reloads while ringing
    again = hub.connect("1001", hello={"type": "hello"})
    assert [m["type"] for m in _drain(again)] == ["hello", "screen_pop"]
    bus.publish(CallAnswered(agent="1001", call_id="1.1"))
    hub.disconnect("1001", again)
    third = hub.connect("1001", hello={"type": "hello"})  # reloads again while talking
    assert [m["type"] for m in _drain(third)] == ["hello", "screen_pop", "call_answered"]
    bus.publish(_ended("1.1", "1001"))
    assert [m["type"] for m in _drain(third)] == ["call_ended"]
    assert [m["type"] for m in _drain(hub.connect("1001", hello={"type": "hello"}))] == ["hello"]  # over: no replay


def test_a_withdrawn_offer_is_not_replayed() -> None:
    bus = EventBus()
    hub = AgentHub(bus)
    hub.subscribe()
    bus.publish(AgentOffered(pop=_pop()))
    bus.publish(OfferCancelled(agent="1001", call_id="1.1", reason="no_answer"))
    assert _drain(hub.connect("1001")) == []
