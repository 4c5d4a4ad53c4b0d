"""The live call model from IVR and AMI events: legs by linkedid, screen-pops, cancellations, the call's end."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from cti import registry as registry_module
from cti.events import AgentOffered, CallAnswered, CallEnded, LegRole, OfferCancelled, PopUpdated
from cti.extras import ExtrasLoader
from cti.registry import CallRegistry
from hotline.bus import EventBus
from hotline.channels import extension_of
from ivr.events import IvrCompleted, IvrStarted
from tests.unit.fakes import FakeAmi, FakeCustomers, Recorder, card

UID = "1700000000.5"
AGENT_LEG = "1700000000.6"
CALLER = "13800138000"


class History:
    def __init__(self, result: list[dict[str, Any]] | Exception | None = None) -> None:
        self.result = result or []
        self.asked: list[int] = []

    async def recent(self, customer_id: int, limit: int = 3) -> list[dict[str, Any]]:
        self.asked.append(customer_id)
        if isinstance(self.result, Exception):
            raise self.result
        return self.result


def make_registry(
    customers: FakeCustomers | None = None, history: History | None = None, ami: FakeAmi | None = None
) -> tuple[CallRegistry, EventBus, Recorder, FakeCustomers, FakeAmi]:
    bus = EventBus()
    customers = customers or FakeCustomers()
    ami = ami or FakeAmi()
    extras = ExtrasLoader(history=history, timeout=0.4)  # type: ignore[arg-type]
    calls = CallRegistry(bus, customers, lookup_timeout=0.2, ami=ami, extras=extras)  # type: ignore[arg-type]
    calls.subscribe()
    return calls, bus, Recorder(bus), customers, ami


def emit(ami: FakeAmi, event: str, **fields: Any) -> None:
    base = {"Uniqueid": UID, "Linkedid": UID, "CallerIDNum": CALLER, "Queue": "support"}
    ami.emit(event, **{**base, **fields})


def through_ivr(bus: EventBus, customer: Any = None, lookup_failed: bool = False) -> None:
    bus.publish(
        IvrStarted(
            uniqueid=UID, caller=CALLER, channel="PJSIP/carrier-1", customer=customer, lookup_failed=lookup_failed
        )
    )
    bus.publish(
        IvrCompleted(uniqueid=UID, completed=True, path="main:1", intent="tracking", queue="support", priority=10)
    )


def ring_agent(ami: FakeAmi, ext: str = "1001", leg: str = AGENT_LEG) -> None:
    emit(ami, "Newchannel", Uniqueid=leg, Channel=f"PJSIP/{ext}-0000002a", Context="from-agents")
    emit(ami, "AgentCalled", Interface=f"PJSIP/{ext}", DestUniqueid=leg, DestChannel=f"PJSIP/{ext}-0000002a")


@pytest.fixture
def fast_finalise(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(registry_module, "FINALISE_DELAY", 0.01)


async def test_answered_call_pops_the_card_then_ends_answered_with_its_legs() -> None:
    calls, bus, events, customers, ami = make_registry()
    vip = card(tier="vip", customer_id=42)
    emit(ami, "Newchannel", Context="from-carrier", Exten="11183", Channel="PJSIP/carrier-1")
    through_ivr(bus, vip)
    emit(ami, "QueueCallerJoin", Position="1", Count="1")
    ring_agent(ami, "1001")

    pop = events.one(AgentOffered).pop
    assert (pop.call_id, pop.agent, pop.known) == (UID, "1001", True)
    assert pop.customer is not None and (pop.customer.id, pop.customer.tier) == (42, "vip")
    assert (pop.intent, pop.ivr_path, pop.queue, pop.priority) == ("tracking", "main:1", "support", 10)
    assert pop.waited_seconds is not None and pop.lookup_pending is False
    assert customers.asked == []  # the IVR's card is reused, no second look-up
    assert calls.pops_sent == 1

    emit(ami, "AgentConnect", Interface="PJSIP/1001", HoldTime="3", DestUniqueid=AGENT_LEG)
    answered = events.one(CallAnswered)
    assert (answered.agent, answered.call_id, answered.queue) == ("1001", UID, "support")
    assert answered.wait_seconds is not None and answered.wait_seconds >= 0
    await asyncio.sleep(0.05)
    emit(ami, "AgentComplete", Interface="PJSIP/1001", TalkTime="0", Reason="caller")
    emit(ami, "Hangup", Cause="16")
    emit(ami, "Hangup", Uniqueid=AGENT_LEG, Cause="16")
    assert events.named(CallEnded) == []  # not before the finalise delay

    await asyncio.sleep(0.7)
    record = events.one(CallEnded).record
    assert (record.call_id, record.outcome, record.agent, record.customer_id) == (UID, "answered", "1001", 42)
    assert record.dialed == "11183"
    assert record.wait_seconds is not None and 0 <= record.wait_seconds < 3  # measured, not Asterisk's HoldTime
    assert record.talk_seconds is not None and record.talk_seconds >= 0.04
    legs = {leg.uniqueid: leg for leg in record.legs}
    assert legs[UID].role is LegRole.caller and legs[UID].ended_at is not None and legs[UID].hangup_cause == 16
    assert legs[AGENT_LEG].role is LegRole.agent and legs[AGENT_LEG].agent == "1001"
    assert legs[AGENT_LEG].answered_at is not None
    assert UID not in calls.calls and calls.leg_index == {}


async def test_hangup_before_agent_complete_keeps_the_exact_talk_time(fast_finalise: None) -> None:
    _, bus, events, _, ami = make_registry()
    through_ivr(bus)
    emit(ami, "QueueCallerJoin")
    emit(ami, "AgentConnect", Interface="PJSIP/1002")
    emit(ami, "Hangup")
    emit(ami, "AgentComplete", Interface="PJSIP/1002", TalkTime="99")
    await asyncio.sleep(0.1)
    talk = events.one(CallEnded).record.talk_seconds
    assert talk is not None and talk < 5


async def test_a_transferred_call_lives_on_until_the_caller_leaves(fast_finalise: None) -> None:
    """The first agent's leg ends (a blind transfer): the call is not over while the caller is still on."""
    _, bus, events, _, ami = make_registry()
    through_ivr(bus)
    emit(ami, "QueueCallerJoin")
    ring_agent(ami, "1001")
    emit(ami, "AgentConnect", Interface="PJSIP/1001", DestUniqueid=AGENT_LEG)
    emit(ami, "BlindTransfer", TransfereeLinkedid=UID)
    emit(ami, "Hangup", Uniqueid=AGENT_LEG)
    second = "1700000000.9"
    ring_agent(ami, "1002", leg=second)
    emit(ami, "AgentConnect", Interface="PJSIP/1002", DestUniqueid=second)
    await asyncio.sleep(0.05)
    assert events.named(CallEnded) == []
    emit(ami, "Hangup")
    emit(ami, "Hangup", Uniqueid=second)
    await asyncio.sleep(0.1)
    record = events.one(CallEnded).record
    assert record.agent == "1001"  # the first agent to answer
    assert sorted(leg.agent or "" for leg in record.legs if leg.role is LegRole.agent) == ["1001", "1002"]
    assert len(events.named(CallAnswered)) == 2


async def test_abandoned_call_cancels_the_ringing_agents_pop(fast_finalise: None) -> None:
    _, bus, events, _, ami = make_registry()
    through_ivr(bus, card())
    emit(ami, "QueueCallerJoin")
    emit(ami, "AgentCalled", Interface="PJSIP/1001-0000002a")
    emit(ami, "QueueCallerAbandon", HoldTime="12")
    assert events.one(OfferCancelled) == OfferCancelled(agent="1001", call_id=UID, reason="abandoned")
    emit(ami, "Hangup")
    await asyncio.sleep(0.1)
    record = events.one(CallEnded).record
    assert record.outcome == "abandoned" and record.agent is None
    assert record.wait_seconds is not None and record.wait_seconds < 12


async def test_ring_no_answer_cancels_that_agents_pop() -> None:
    _, bus, events, _, ami = make_registry()
    through_ivr(bus)
    emit(ami, "QueueCallerJoin")
    emit(ami, "AgentCalled", Interface="PJSIP/1001")
    emit(ami, "AgentRingNoAnswer", Interface="PJSIP/1001", RingTime="15")
    assert events.one(OfferCancelled) == OfferCancelled(agent="1001", call_id=UID, reason="no_answer")


async def test_voicemail_outcome_from_the_dialplan(fast_finalise: None) -> None:
    _, bus, events, _, ami = make_registry()
    through_ivr(bus)
    emit(ami, "QueueCallerJoin")
    emit(ami, "UserEvent", UserEvent="HotlineOutcome", Outcome="voicemail", Reason="JOINEMPTY")
    emit(ami, "UserEvent", UserEvent="SomethingElse", Outcome="ignored")
    emit(ami, "Hangup")
    await asyncio.sleep(0.1)
    assert events.one(CallEnded).record.outcome == "voicemail"


async def test_hangup_in_the_ivr(fast_finalise: None) -> None:
    _, bus, events, _, ami = make_registry()
    through_ivr(bus)
    emit(ami, "Hangup")
    emit(ami, "Hangup")  # a repeated hangup does not end the call twice
    await asyncio.sleep(0.1)
    record = events.one(CallEnded).record
    assert record.outcome == "ivr_hangup" and record.talk_seconds is None


async def test_hangup_of_an_unknown_channel_is_ignored(fast_finalise: None) -> None:
    calls, _, events, _, ami = make_registry()
    ami.emit("Hangup", Uniqueid="9.9")
    ami.emit("Hangup")
    await asyncio.sleep(0.1)
    assert events.named(CallEnded) == [] and calls.calls == {}


async def test_call_never_seen_in_the_ivr_pops_at_once_and_the_card_follows() -> None:
    """The pop never waits for a look-up, so the events after it cannot overtake it."""
    late = card(tier="regular", customer_id=77)
    calls, _, events, customers, ami = make_registry(FakeCustomers(late, delay=0.05))
    emit(ami, "AgentCalled", Interface="PJSIP/1003")
    emit(ami, "AgentConnect", Interface="PJSIP/1003")
    first = events.one(AgentOffered).pop
    assert (first.agent, first.known, first.lookup_pending, first.waited_seconds) == ("1003", False, True, None)
    assert [type(e).__name__ for e in events.events] == ["AgentOffered", "CallAnswered"]
    await asyncio.sleep(0.15)
    update = events.one(PopUpdated).pop
    assert customers.asked == [CALLER]
    assert update.customer is not None and update.customer.id == 77 and update.lookup_pending is False
    assert calls.calls[UID].caller == CALLER


@pytest.mark.parametrize(
    "customers",
    [FakeCustomers(OSError("crm down")), FakeCustomers(card(), delay=2.0)],
    ids=["raises", "too slow"],
)
async def test_failed_late_lookup_updates_the_pop_as_unknown(customers: FakeCustomers) -> None:
    _, _, events, _, ami = make_registry(customers)
    emit(ami, "AgentCalled", Interface="PJSIP/1003")
    await asyncio.sleep(0.3)
    pop = events.one(PopUpdated).pop
    assert (pop.known, pop.customer, pop.lookup_failed) == (False, None, True)


async def test_unknown_caller_from_the_ivr_is_not_looked_up_again() -> None:
    _, bus, events, customers, ami = make_registry(FakeCustomers(card()))
    through_ivr(bus, customer=None)
    emit(ami, "AgentCalled", Interface="PJSIP/1001")
    await asyncio.sleep(0.05)
    assert customers.asked == [] and events.named(PopUpdated) == []
    assert events.one(AgentOffered).pop.known is False


async def test_agent_called_without_interface_pops_nothing() -> None:
    _, _, events, _, ami = make_registry()
    emit(ami, "AgentCalled", Interface="")
    assert events.named(AgentOffered) == []


@pytest.mark.parametrize(
    ("interface", "extension"),
    [
        ("PJSIP/1001", "1001"),
        ("PJSIP/1001-0000002a", "1001"),
        ("Local/1001@agents-00000001;1", "1001"),
        ("SIP/", None),
        ("1001", None),
        ("", None),
        (None, None),
    ],
)
def test_extension_of(interface: str | None, extension: str | None) -> None:
    assert extension_of(interface) == extension


def resync_ami(channels: list[dict[str, str]], entries: list[dict[str, str]], variables: dict[str, str]) -> FakeAmi:
    return FakeAmi(
        {
            "CoreShowChannels": lambda _: {
                "Response": "Success",
                "events": [{"Event": "CoreShowChannel", **c} for c in channels],
            },
            "QueueStatus": {"Response": "Success", "events": entries},
            "Getvar": lambda f: {"Response": "Success", "Value": variables.get(f["Variable"], "")},
        }
    )


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
    channels = [
        channel(talking, "PJSIP/carrier-1", "hotline", "00:01:05", bridge="b1"),
        channel("100.2", "PJSIP/1003-2", "from-agents", "00:00:40", bridge="b1", linked=talking),
        channel(queued, "PJSIP/carrier-3", "hotline", "00:00:20"),
        channel("100.4", "PJSIP/1004-4", "from-agents", "00:00:03"),  # an agent-to-agent call: not ours
    ]
    variables = {
        "HOTLINE_IVR_PATH": "main:3",
        "HOTLINE_INTENT": "complaint",
        "HOTLINE_QUEUE": "support",
        "HOTLINE_PRIORITY": "10",
        "HOTLINE_CUSTOMER_ID": "",
    }
    ami = resync_ami(channels, [{"Event": "QueueEntry", "Uniqueid": queued, "Wait": "12"}], variables)
    calls, _, events, _, _ = make_registry(FakeCustomers(card(tier="vip")), ami=ami)
    await ami.connect()

    assert set(calls.calls) == {talking, queued}
    t = calls.calls[talking]
    assert t.agent == "1003" and t.answered_at is not None and t.queued_at is None
    assert (t.answered_at - t.started_at).total_seconds() == pytest.approx(25, abs=1)
    assert (t.ivr_path, t.intent, t.queue, t.priority) == ("main:3", "complaint", "support", 10)
    assert t.customer is not None and t.customer.tier == "vip"
    assert set(t.legs) == {talking, "100.2"} and t.legs["100.2"].role is LegRole.agent
    q = calls.calls[queued]
    assert q.answered_at is None and q.queued_at is not None
    assert (q.queued_at - q.started_at).total_seconds() == pytest.approx(8, abs=1)

    ami.emit("Hangup", Uniqueid=talking)
    ami.emit("Hangup", Uniqueid="100.2")
    await asyncio.sleep(0.1)
    ended = events.one(CallEnded).record
    assert ended.call_id == talking and ended.outcome == "answered"
    assert ended.talk_seconds == pytest.approx(40, abs=1)

    channels[:] = [c for c in channels if c["Uniqueid"] not in (talking, "100.2")]  # gone from Asterisk
    await ami.connect()  # a second resync keeps what it knows and adopts nothing twice
    assert set(calls.calls) == {queued} and calls.calls[queued] is q


async def test_resync_without_asterisk_answers_changes_nothing() -> None:
    ami = FakeAmi({"CoreShowChannels": ConnectionError("gone")})
    calls, _, _, _, _ = make_registry(ami=ami)
    await ami.connect()
    assert calls.calls == {}


async def test_hangup_during_resync_leaves_no_phantom_and_the_row_is_written(fast_finalise: None) -> None:
    """The caller hangs up while the resync is still asking Asterisk: the Hangup is remembered, the call is
    not adopted as a live call (it would stay forever), and its CallEnded is still published."""
    uid = "500.1"
    ami = resync_ami([channel(uid, "PJSIP/carrier-5", "hotline", "00:00:07")], [], {"HOTLINE_INTENT": "agent"})
    answers = dict(ami.answers)

    def getvar(fields: dict[str, Any]) -> dict[str, Any]:
        ami.emit("Hangup", Uniqueid=uid)  # arrives between the snapshot and the adoption
        return answers["Getvar"](fields)  # type: ignore[no-any-return]

    ami.answers["Getvar"] = getvar
    calls, _, events, _, _ = make_registry(ami=ami)
    await ami.connect()
    await asyncio.sleep(0.1)
    assert calls.calls == {} and calls.leg_index == {}
    record = events.one(CallEnded).record
    assert record.call_id == uid and record.intent == "agent" and record.outcome == "ivr_hangup"


async def test_carrier_call_is_measured_from_its_first_moment(fast_finalise: None) -> None:
    calls, bus, events, _, ami = make_registry()
    emit(ami, "Newchannel", Context="from-carrier", Exten="11183", Channel="PJSIP/carrier-1")
    ami.emit("Newchannel", Uniqueid="9.9", Linkedid="9.9", Context="from-agents", Exten="1002", CallerIDNum="1001")
    assert set(calls.calls) == {UID}  # an internal call is not ours
    first = calls.calls[UID].started_at
    await asyncio.sleep(0.02)
    through_ivr(bus, customer=card())
    assert calls.calls[UID].started_at == first and calls.calls[UID].dialed == "11183"
    emit(ami, "Hangup")
    await asyncio.sleep(0.1)
    record = events.one(CallEnded).record
    assert record.dialed == "11183" and record.outcome == "ivr_hangup" and record.started_at == first


async def test_recent_contacts_are_fetched_during_the_ivr_and_popped() -> None:
    history = History([{"at": "2026-11-20T10:00:00+00:00", "outcome": "answered", "agent": "1002", "intent": "pickup"}])
    _, bus, events, _, ami = make_registry(history=history)
    through_ivr(bus, customer=card(customer_id=42))
    await asyncio.sleep(0.05)
    emit(ami, "AgentCalled", Interface="PJSIP/1001")
    assert history.asked == [42]
    assert events.one(AgentOffered).pop.recent_contacts[0]["intent"] == "pickup"


async def test_a_failing_history_lookup_is_harmless() -> None:
    _, bus, events, _, ami = make_registry(history=History(ConnectionError("database down")))
    through_ivr(bus, customer=card())
    await asyncio.sleep(0.05)
    emit(ami, "AgentCalled", Interface="PJSIP/1001")
    assert events.one(AgentOffered).pop.recent_contacts == []


async def test_resync_does_not_overwrite_a_call_live_events_created_meanwhile(fast_finalise: None) -> None:
    """The agent answers while the resync is still asking Asterisk about the queued call: the live
    AgentConnect must win over the (older) snapshot, so the call ends as answered, not abandoned."""
    uid = "300.1"
    ami = resync_ami(
        [channel(uid, "PJSIP/carrier-9", "hotline", "00:00:09")],
        [{"Event": "QueueEntry", "Uniqueid": uid, "Wait": "3"}],
        {"HOTLINE_INTENT": "agent"},
    )
    answers = dict(ami.answers)
    answered: list[bool] = []

    def getvar(fields: dict[str, Any]) -> dict[str, Any]:
        if not answered:
            answered.append(True)
            ami.emit("AgentConnect", Uniqueid=uid, Linkedid=uid, Queue="support", Interface="PJSIP/1008", HoldTime="3")
        return answers["Getvar"](fields)  # type: ignore[no-any-return]

    ami.answers["Getvar"] = getvar
    calls, _, events, _, _ = make_registry(ami=ami)
    await ami.connect()
    call = calls.calls[uid]
    assert call.agent == "1008" and call.answered_at is not None
    assert call.intent == "agent" and call.queued_at is not None  # filled in from the snapshot
    ami.emit("Hangup", Uniqueid=uid)
    await asyncio.sleep(0.1)
    assert events.one(CallEnded).record.outcome == "answered"


async def test_resync_closes_calls_that_ended_while_disconnected(fast_finalise: None) -> None:
    """A Hangup missed during an AMI outage must not leave the call in memory forever."""
    ami = resync_ami([channel("400.2", "PJSIP/carrier-2", "hotline", "00:00:05")], [], {})
    calls, _, events, _, _ = make_registry(ami=ami)
    for uid in ("400.1", "400.2"):
        ami.emit("QueueCallerJoin", Uniqueid=uid, Linkedid=uid, Queue="support")
    await ami.connect()
    assert set(calls.calls) == {"400.2"}  # still up in Asterisk: kept
    ended = events.one(CallEnded).record
    assert ended.call_id == "400.1" and ended.outcome == "abandoned" and ended.ended_at is not None
