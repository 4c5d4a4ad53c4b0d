"""Agent desk connections: per-connection bounded outboxes fed from the bus."""

from __future__ import annotations

from cti import hub as hub_module
from cti.calls import Call, now
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


def test_bus_events_reach_the_desk() -> None:
    bus = EventBus()
    hub = AgentHub(bus)
    hub.subscribe()
    desk = hub.connect("1001")
    bus.publish("cti.screen_pop", {"agent": "1001", "pop": {"type": "screen_pop", "call_id": "1.1"}})
    bus.publish("cti.pop_cancelled", {"agent": "1001", "call_id": "1.1", "reason": "abandoned"})
    bus.publish("cti.call_answered", {"agent": "1002", "call_id": "1.1"})
    bus.publish("agent.state", {"agent": "1001", "state": "paused"})
    call = Call(uniqueid="1.1", agent="1001", answered_at=now(), talk_seconds=12.5)
    bus.publish("call.ended", {"call": call})
    bus.publish("call.ended", {"call": Call(uniqueid="1.2")})  # nobody answered: nobody told
    received = [desk.get_nowait() for _ in range(desk.qsize())]
    assert received == [
        {"type": "screen_pop", "call_id": "1.1"},
        {"type": "pop_cancelled", "agent": "1001", "call_id": "1.1", "reason": "abandoned"},
        {"type": "agent_state", "agent": "1001", "state": "paused"},
        {"type": "call_ended", "call_id": "1.1", "outcome": "answered", "talk_seconds": 12.5},
    ]
