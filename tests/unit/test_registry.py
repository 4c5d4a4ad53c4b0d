"""Live calls from IVR and AMI events: screen-pops, cancellations, and the call's end."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from cti import registry as registry_module
from cti.calls import Call, extension_of
from cti.registry import CallRegistry
from hotline.bus import EventBus
from tests.unit.fakes import FakeCustomers, Recorder, card

UID = "1700000000.5"
CALLER = "13800138000"


def make_registry(customers: FakeCustomers | None = None) -> tuple[CallRegistry, EventBus, Recorder, FakeCustomers]:
    bus = EventBus()
    customers = customers or FakeCustomers()
    calls = CallRegistry(bus, customers, lookup_timeout=0.2)  # type: ignore[arg-type]
    calls.subscribe()
    return calls, bus, Recorder(bus), customers


def ami(bus: EventBus, event: str, **fields: Any) -> None:
    bus.publish(f"ami.{event}", {"Event": event, "Uniqueid": UID, "CallerIDNum": CALLER, "Queue": "support", **fields})


def through_ivr(bus: EventBus, customer: Any = None, lookup_failed: bool = False) -> None:
    bus.publish(
        "ivr.started",
        {
            "uniqueid": UID,
            "caller": CALLER,
            "channel": "PJSIP/carrier-1",
            "customer": customer,
            "lookup_failed": lookup_failed,
        },
    )
    bus.publish(
        "ivr.done",
        {
            "uniqueid": UID,
            "completed": True,
            "path": "main:1",
            "intent": "tracking",
            "queue": "support",
            "priority": 10,
        },
    )


@pytest.fixture
def fast_finalise(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(registry_module, "FINALISE_DELAY", 0.01)


async def test_answered_call_pops_the_card_then_ends_answered() -> None:
    calls, bus, events, customers = make_registry()
    vip = card(tier="vip", customer_id=42)
    through_ivr(bus, vip)
    ami(bus, "QueueCallerJoin", Position="1", Count="1")
    ami(bus, "AgentCalled", Interface="PJSIP/1001", MemberName="Alice")
    await bus.drain()

    screen = events.one("cti.screen_pop")
    assert screen["agent"] == "1001"
    pop = screen["pop"]
    assert pop["call_id"] == UID
    assert pop["agent"] == "1001"
    assert pop["known"] is True
    assert pop["customer"]["id"] == 42
    assert pop["customer"]["tier"] == "vip"
    assert (pop["intent"], pop["ivr_path"], pop["queue"], pop["priority"]) == ("tracking", "main:1", "support", 10)
    assert pop["waited_seconds"] is not None
    assert customers.asked == []  # the IVR's card is reused, no second look-up
    assert calls.pops_sent == 1

    ami(bus, "AgentConnect", Interface="PJSIP/1001", HoldTime="3")
    assert events.one("cti.call_answered") == {"agent": "1001", "call_id": UID}
    await asyncio.sleep(0.05)
    ami(bus, "AgentComplete", Interface="PJSIP/1001", TalkTime="0", Reason="caller")
    ami(bus, "Hangup", Cause="16")
    assert events.named("call.ended") == []  # not before the finalise delay

    await asyncio.sleep(0.7)
    call: Call = events.one("call.ended")["call"]
    assert call.final_outcome() == "answered"
    assert call.agent == "1001"
    assert call.wait_seconds is not None and 0 <= call.wait_seconds < 3  # measured, not Asterisk's HoldTime
    assert call.talk_seconds is not None and call.talk_seconds >= 0.04
    assert call.customer == vip
    assert UID not in calls.calls
    assert call.snapshot()["customer_id"] == 42


async def test_hangup_before_agent_complete_keeps_the_exact_talk_time(fast_finalise: None) -> None:
    _, bus, events, _ = make_registry()
    through_ivr(bus)
    ami(bus, "QueueCallerJoin")
    ami(bus, "AgentConnect", Interface="PJSIP/1002")
    ami(bus, "Hangup")
    ami(bus, "AgentComplete", Interface="PJSIP/1002", TalkTime="99")
    await asyncio.sleep(0.1)
    call: Call = events.one("call.ended")["call"]
    assert call.talk_seconds is not None and call.talk_seconds < 5


async def test_abandoned_call_cancels_the_ringing_agents_pop(fast_finalise: None) -> None:
    _, bus, events, _ = make_registry()
    through_ivr(bus, card())
    ami(bus, "QueueCallerJoin")
    ami(bus, "AgentCalled", Interface="PJSIP/1001-0000002a")
    await bus.drain()
    ami(bus, "QueueCallerAbandon", HoldTime="12")
    assert events.one("cti.pop_cancelled") == {"agent": "1001", "call_id": UID, "reason": "abandoned"}
    ami(bus, "Hangup")
    await asyncio.sleep(0.1)
    call: Call = events.one("call.ended")["call"]
    assert call.final_outcome() == "abandoned"
    assert call.wait_seconds is not None and call.wait_seconds < 12
    assert call.agent is None


async def test_ring_no_answer_cancels_that_agents_pop() -> None:
    _, bus, events, _ = make_registry()
    through_ivr(bus)
    ami(bus, "QueueCallerJoin")
    ami(bus, "AgentCalled", Interface="PJSIP/1001")
    await bus.drain()
    ami(bus, "AgentRingNoAnswer", Interface="PJSIP/1001", RingTime="15")
    assert events.one("cti.pop_cancelled") == {"agent": "1001", "call_id": UID, "reason": "no_answer"}


async def test_voicemail_outcome_from_the_dialplan(fast_finalise: None) -> None:
    _, bus, events, _ = make_registry()
    through_ivr(bus)
    ami(bus, "QueueCallerJoin")
    ami(bus, "UserEvent", UserEvent="HotlineOutcome", Outcome="voicemail", Reason="JOINEMPTY")
    ami(bus, "UserEvent", UserEvent="SomethingElse", Outcome="ignored")
    ami(bus, "Hangup")
    await asyncio.sleep(0.1)
    assert events.one("call.ended")["call"].final_outcome() == "voicemail"


async def test_hangup_in_the_ivr(fast_finalise: None) -> None:
    _, bus, events, _ = make_registry()
    through_ivr(bus)
    ami(bus, "Hangup")
    ami(bus, "Hangup")  # a repeated hangup does not end the call twice
    await asyncio.sleep(0.1)
    call: Call = events.one("call.ended")["call"]
    assert call.final_outcome() == "ivr_hangup"
    assert call.talk_seconds is None


async def test_hangup_of_an_unknown_channel_is_ignored(fast_finalise: None) -> None:
    calls, bus, events, _ = make_registry()
    bus.publish("ami.Hangup", {"Event": "Hangup", "Uniqueid": "9.9"})
    bus.publish("ami.Hangup", {"Event": "Hangup"})
    await asyncio.sleep(0.1)
    assert events.named("call.ended") == []
    assert calls.calls == {}


async def test_call_never_seen_in_the_ivr_is_looked_up_late() -> None:
    late = card(tier="regular", customer_id=77)
    calls, bus, events, customers = make_registry(FakeCustomers(late))
    ami(bus, "AgentCalled", Interface="PJSIP/1003")
    await bus.drain()
    assert customers.asked == [CALLER]
    pop = events.one("cti.screen_pop")["pop"]
    assert pop["agent"] == "1003"
    assert pop["customer"]["id"] == 77
    assert pop["lookup_failed"] is False
    assert pop["waited_seconds"] is None
    assert calls.calls[UID].caller == CALLER


@pytest.mark.parametrize(
    "customers",
    [FakeCustomers(OSError("crm down")), FakeCustomers(card(), delay=2.0)],
    ids=["raises", "too slow"],
)
async def test_failed_late_lookup_still_pops_an_unknown_caller(customers: FakeCustomers) -> None:
    _, bus, events, _ = make_registry(customers)
    ami(bus, "AgentCalled", Interface="PJSIP/1003")
    await bus.drain()
    pop = events.one("cti.screen_pop")["pop"]
    assert pop["known"] is False
    assert pop["customer"] is None
    assert pop["lookup_failed"] is True


async def test_unknown_caller_from_the_ivr_is_not_looked_up_again() -> None:
    _, bus, events, customers = make_registry(FakeCustomers(card()))
    through_ivr(bus, customer=None)
    ami(bus, "AgentCalled", Interface="PJSIP/1001")
    await bus.drain()
    assert customers.asked == []
    assert events.one("cti.screen_pop")["pop"]["known"] is False


async def test_agent_called_without_interface_pops_nothing() -> None:
    _, bus, events, _ = make_registry()
    ami(bus, "AgentCalled", Interface="")
    await bus.drain()
    assert events.named("cti.screen_pop") == []


@pytest.mark.parametrize(
    ("interface", "extension"),
    [
        ("PJSIP/1001", "1001"),
        ("PJSIP/1001-0000002a", "1001"),
        ("SIP/", None),
        ("1001", None),
        ("", None),
        (None, None),
    ],
)
def test_extension_of(interface: str | None, extension: str | None) -> None:
    assert extension_of(interface) == extension


class FakeAmiForResync:
    """Answers the three actions a resync sends, from a scripted Asterisk state."""

    def __init__(self, channels: list[dict[str, str]], entries: list[dict[str, str]], variables: dict[str, str]):
        self.channels, self.entries, self.variables = channels, entries, variables
        self.actions: list[str] = []

    async def action(self, name: str, as_list: bool = False, **fields: Any) -> dict[str, Any]:
        self.actions.append(name)
        if name == "CoreShowChannels":
            return {"Response": "Success", "events": [{"Event": "CoreShowChannel", **c} for c in self.channels]}
        if name == "QueueStatus":
            return {"Response": "Success", "events": self.entries}
        if name == "Getvar":
            return {"Response": "Success", "Value": self.variables.get(fields["Variable"], "")}
        raise AssertionError(name)


def channel(
    uid: str, name: str, context: str, duration: str, bridge: str = "", linked: str | None = None
) -> dict[str, str]:
    return {
        "Uniqueid": uid,
        "Linkedid": linked or uid,
        "Channel": name,
        "Context": context,
        "Duration": duration,
        "BridgeId": bridge,
        "CallerIDNum": CALLER,
    }


async def test_resync_adopts_talking_and_queued_calls_only(fast_finalise: None) -> None:
    talking, queued = "100.1", "100.3"
    fake = FakeAmiForResync(
        channels=[
            channel(talking, "PJSIP/carrier-1", "hotline", "00:01:05", bridge="b1"),
            channel("100.2", "PJSIP/1003-2", "from-agents", "00:00:40", bridge="b1", linked=talking),
            channel(queued, "PJSIP/carrier-3", "hotline", "00:00:20"),
            channel("100.4", "PJSIP/1004-4", "from-agents", "00:00:03"),  # an agent-to-agent call: not ours
        ],
        entries=[{"Event": "QueueEntry", "Uniqueid": queued, "Wait": "12"}],
        variables={
            "HOTLINE_IVR_PATH": "main:3",
            "HOTLINE_INTENT": "complaint",
            "HOTLINE_QUEUE": "support",
            "HOTLINE_PRIORITY": "10",
            "HOTLINE_CUSTOMER_ID": "",
        },
    )
    bus = EventBus()
    customers = FakeCustomers(card(tier="vip"))
    calls = CallRegistry(bus, customers, lookup_timeout=0.2, ami=fake)  # type: ignore[arg-type]
    calls.subscribe()
    recorder = Recorder(bus)
    bus.publish("ami.connected", {})
    await bus.drain()

    assert set(calls.calls) == {talking, queued}
    t = calls.calls[talking]
    assert t.agent == "1003" and t.answered_at is not None and t.queued_at is None
    assert (t.answered_at - t.started_at).total_seconds() == pytest.approx(25, abs=1)
    assert (t.ivr_path, t.intent, t.queue, t.priority) == ("main:3", "complaint", "support", 10)
    assert t.customer is not None and t.customer.tier == "vip"
    q = calls.calls[queued]
    assert q.answered_at is None and q.queued_at is not None
    assert (q.queued_at - q.started_at).total_seconds() == pytest.approx(8, abs=1)

    bus.publish("ami.Hangup", {"Event": "Hangup", "Uniqueid": talking})
    await asyncio.sleep(0.1)
    ended = recorder.one("call.ended")["call"]
    assert ended.uniqueid == talking and ended.final_outcome() == "answered"
    assert ended.talk_seconds == pytest.approx(40, abs=1)

    fake.channels = [c for c in fake.channels if c["Uniqueid"] not in (talking, "100.2")]  # gone from Asterisk
    bus.publish("ami.connected", {})  # a second resync keeps what it knows and adopts nothing twice
    await bus.drain()
    assert set(calls.calls) == {queued} and calls.calls[queued] is q


async def test_resync_without_asterisk_answers_changes_nothing() -> None:
    class Down:
        async def action(self, name: str, as_list: bool = False, **fields: Any) -> dict[str, Any]:
            raise ConnectionError("gone")

    bus = EventBus()
    calls = CallRegistry(bus, FakeCustomers(), ami=Down())  # type: ignore[arg-type]
    calls.subscribe()
    bus.publish("ami.connected", {})
    await bus.drain()
    assert calls.calls == {}


async def test_carrier_call_is_measured_from_its_first_moment(fast_finalise: None) -> None:
    calls, bus, recorder, _ = make_registry()
    bus.publish(
        "ami.Newchannel",
        {
            "Event": "Newchannel",
            "Uniqueid": UID,
            "Context": "from-carrier",
            "Exten": "11183",
            "CallerIDNum": CALLER,
            "Channel": "PJSIP/carrier-1",
        },
    )
    bus.publish(
        "ami.Newchannel",
        {"Event": "Newchannel", "Uniqueid": "9.9", "Context": "from-agents", "Exten": "1002", "CallerIDNum": "1001"},
    )  # an internal call: not ours
    assert set(calls.calls) == {UID}
    first = calls.calls[UID].started_at
    await asyncio.sleep(0.02)
    through_ivr(bus, customer=card())
    assert calls.calls[UID].started_at == first and calls.calls[UID].dialed == "11183"
    ami(bus, "Hangup")
    await asyncio.sleep(0.1)
    ended = recorder.one("call.ended")["call"]
    assert ended.snapshot()["dialed"] == "11183" and ended.final_outcome() == "ivr_hangup"


async def test_recent_contacts_are_fetched_during_the_ivr_and_popped() -> None:
    asked: list[int] = []

    async def history(customer_id: int) -> list[dict[str, Any]]:
        asked.append(customer_id)
        return [{"at": "2026-11-20T10:00:00+00:00", "outcome": "answered", "agent": "1002", "intent": "pickup"}]

    bus = EventBus()
    calls = CallRegistry(bus, FakeCustomers(), history=history)  # type: ignore[arg-type]
    calls.subscribe()
    recorder = Recorder(bus)
    through_ivr(bus, customer=card(customer_id=42))
    await asyncio.sleep(0.05)
    ami(bus, "AgentCalled", Interface="PJSIP/1001")
    await bus.drain()
    assert asked == [42]
    assert recorder.one("cti.screen_pop")["pop"]["recent_contacts"][0]["intent"] == "pickup"


async def test_unknown_callers_have_no_history_lookup_and_a_failing_one_is_harmless() -> None:
    async def broken(customer_id: int) -> list[dict[str, Any]]:
        raise ConnectionError("database down")

    bus = EventBus()
    calls = CallRegistry(bus, FakeCustomers(), history=broken)  # type: ignore[arg-type]
    calls.subscribe()
    recorder = Recorder(bus)
    through_ivr(bus, customer=card())
    await asyncio.sleep(0.05)
    ami(bus, "AgentCalled", Interface="PJSIP/1001")
    await bus.drain()
    assert recorder.one("cti.screen_pop")["pop"]["recent_contacts"] == []


async def test_resync_does_not_overwrite_a_call_live_events_created_meanwhile(fast_finalise: None) -> None:
    """The agent answers while the resync is still asking Asterisk about the queued call: the live
    AgentConnect must win over the (older) snapshot, so the call ends as answered, not abandoned."""
    uid = "300.1"
    bus = EventBus()

    class AnswersDuringResync(FakeAmiForResync):
        async def action(self, name: str, as_list: bool = False, **fields: Any) -> dict[str, Any]:
            if name == "Getvar" and "answered" not in self.actions:
                self.actions.append("answered")
                bus.publish(
                    "ami.AgentConnect",
                    {
                        "Event": "AgentConnect",
                        "Uniqueid": uid,
                        "Queue": "support",
                        "Interface": "PJSIP/1008",
                        "HoldTime": "3",
                    },
                )
            return await super().action(name, as_list, **fields)

    fake = AnswersDuringResync(
        channels=[channel(uid, "PJSIP/carrier-9", "hotline", "00:00:09")],
        entries=[{"Event": "QueueEntry", "Uniqueid": uid, "Wait": "3"}],
        variables={"HOTLINE_INTENT": "agent"},
    )
    calls = CallRegistry(bus, FakeCustomers(), ami=fake)  # type: ignore[arg-type]
    calls.subscribe()
    recorder = Recorder(bus)
    bus.publish("ami.connected", {})
    await bus.drain()
    call = calls.calls[uid]
    assert call.agent == "1008" and call.answered_at is not None
    assert call.intent == "agent" and call.queued_at is not None  # filled in from the snapshot
    bus.publish("ami.Hangup", {"Event": "Hangup", "Uniqueid": uid})
    await asyncio.sleep(0.1)
    assert recorder.one("call.ended")["call"].final_outcome() == "answered"


async def test_resync_closes_calls_that_ended_while_disconnected(fast_finalise: None) -> None:
    """A Hangup missed during an AMI outage must not leave the call in memory forever."""
    fake = FakeAmiForResync(
        channels=[channel("400.2", "PJSIP/carrier-2", "hotline", "00:00:05")], entries=[], variables={}
    )
    bus = EventBus()
    calls = CallRegistry(bus, FakeCustomers(), ami=fake)  # type: ignore[arg-type]
    calls.subscribe()
    recorder = Recorder(bus)
    for uid in ("400.1", "400.2"):
        bus.publish("ami.QueueCallerJoin", {"Event": "QueueCallerJoin", "Uniqueid": uid, "Queue": "support"})
    bus.publish("ami.connected", {})
    await bus.drain()
    assert set(calls.calls) == {"400.2"}  # still up in Asterisk: kept
    ended = recorder.one("call.ended")["call"]
    assert ended.uniqueid == "400.1" and ended.final_outcome() == "abandoned" and ended.ended_at is not None
