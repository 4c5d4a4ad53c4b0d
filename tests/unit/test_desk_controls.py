"""The desk's call controls over the live call model: the AMI action each sends for the agent's own call,
and a transfer to an agent popping the card at that agent's desk and making them the call's next leg."""

from __future__ import annotations

import pytest

from cti.controls import CallControls, TargetKind, TransferMode, TransferRequest
from cti.events import AgentOffered, CallAnswered, CallHeld, LegRole
from hotline.errors import Conflict, NotFound
from tests.unit.fakes import Recorder
from tests.unit.test_registry import AGENT_LEG, UID, emit, make_registry, through_ivr


def answered_call() -> tuple[CallControls, Recorder, object, object]:
    calls, bus, events, _, ami = make_registry()
    through_ivr(bus)
    emit(ami, "Newchannel", Channel="PJSIP/carrier-1", Context="from-carrier", Exten="11183")
    emit(ami, "QueueCallerJoin", Channel="PJSIP/carrier-1")
    member = {"Interface": "PJSIP/1001", "DestChannel": "PJSIP/1001-00000001", "DestUniqueid": AGENT_LEG}
    emit(ami, "AgentCalled", **member)
    emit(ami, "AgentConnect", **member)
    return CallControls(calls, ami, bus, frozenset({"support"})), events, ami, calls  # type: ignore[arg-type]


async def test_hold_redirects_both_sides_and_resume_bridges_them() -> None:
    controls, events, ami, _ = answered_call()
    view = await controls.hold("1001")
    assert view.held and view.call_id == UID
    name, fields = ami.actions[-1]  # type: ignore[attr-defined]
    assert name == "Redirect"
    assert (fields["Channel"], fields["Exten"], fields["ExtraChannel"], fields["ExtraExten"]) == (
        "PJSIP/carrier-1",
        "hold",
        "PJSIP/1001-00000001",
        "held",
    )
    with pytest.raises(Conflict):
        await controls.hold("1001")
    await controls.resume("1001")
    name, fields = ami.actions[-1]  # type: ignore[attr-defined]
    assert (name, fields["Channel1"], fields["Channel2"]) == ("Bridge", "PJSIP/carrier-1", "PJSIP/1001-00000001")
    assert [e.held for e in events.named(CallHeld)] == [True, False]


async def test_only_the_agents_own_call_is_controlled() -> None:
    controls, _, _, _ = answered_call()
    with pytest.raises(NotFound):
        await controls.hangup("1002")
    await controls.hangup("1001")


async def test_blind_and_attended_transfers_name_the_desk_context() -> None:
    controls, _, ami, _ = answered_call()
    await controls.transfer("1001", TransferRequest(kind=TargetKind.queue, target="support"))
    assert ami.actions[-1] == (  # type: ignore[attr-defined]
        "BlindTransfer",
        {"Channel": "PJSIP/1001-00000001", "Context": "hotline-desk", "Exten": "*21"},
    )
    await controls.transfer(
        "1001", TransferRequest(mode=TransferMode.attended, kind=TargetKind.number, target="+8613900000000")
    )
    assert ami.actions[-1][0] == "Atxfer" and ami.actions[-1][1]["Exten"] == "*38613900000000#"  # type: ignore[attr-defined]
    with pytest.raises(NotFound):
        await controls.transfer("1001", TransferRequest(kind=TargetKind.queue, target="nowhere"))
    with pytest.raises(Conflict):
        await controls.transfer("1001", TransferRequest(kind=TargetKind.agent, target="1001"))


async def test_a_transfer_to_an_agent_pops_there_and_their_answer_joins_the_call() -> None:
    controls, events, ami, calls = answered_call()
    await controls.transfer("1001", TransferRequest(kind=TargetKind.agent, target="1002"))
    emit(ami, "UserEvent", UserEvent="HotlineTransferOffer", Agent="1002", Channel="PJSIP/carrier-1")  # type: ignore[arg-type]
    pops = events.named(AgentOffered)
    assert [p.pop.agent for p in pops] == ["1001", "1002"] and pops[-1].pop.call_id == UID
    assert pops[-1].pop.ivr_path == "main:1"  # the same call, with what the IVR learned
    emit(ami, "Newchannel", Uniqueid="1700000000.9", Channel="PJSIP/1002-00000002")  # type: ignore[arg-type]
    emit(ami, "Newstate", Uniqueid="1700000000.9", ChannelState="6")  # type: ignore[arg-type]
    assert [(e.agent, e.call_id) for e in events.named(CallAnswered)][-1] == ("1002", UID)
    leg = calls.calls[UID].legs["1700000000.9"]  # type: ignore[attr-defined]
    assert (leg.role, leg.agent) == (LegRole.transfer, "1002")
    assert controls.view("1002").call_id == UID  # the new agent's desk controls the same call
