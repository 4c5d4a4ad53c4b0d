"""The desk's recording controls over a live call, against a fake AMI and a hand-moved clock."""

from __future__ import annotations

from typing import Any

import pytest

from hotline.ami import AmiActionError
from hotline.errors import Conflict, NotFound, TelephonyUnavailable
from recordings.live import LiveRecordings
from recordings.policy import RecordingsConfig


class Ami:
    def __init__(self) -> None:
        self.actions: list[dict[str, Any]] = []
        self.vars: dict[str, str] = {"MONITOR_FILENAME": "/rec/2026/11/24/9.1", "HOTLINE_QUEUE": "support"}
        self.refuse: str | None = None

    async def action(self, name: str, as_list: bool = False, **fields: Any) -> dict[str, Any]:
        if name == self.refuse:
            raise AmiActionError(name, "No such channel")
        if name == "Getvar":
            return {"Response": "Success", "Value": self.vars.get(fields["Variable"], "")}
        self.actions.append({"Action": name, **fields})
        return {"Response": "Success"}


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


CONFIG = RecordingsConfig.model_validate(
    {"queues": {"support": {"policy": "on_demand"}, "quiet": {"policy": "none"}, "sales": {"policy": "all"}}}
)


def connect(live: LiveRecordings, agent: str = "1001", queue: str = "support") -> None:
    live.on_AgentConnect(
        {
            "Linkedid": "9.1",
            "Uniqueid": "9.1",
            "Channel": "PJSIP/carrier-01",
            "Queue": queue,
            "Interface": f"PJSIP/{agent}",
        }
    )


def provisional(ami: Ami) -> None:
    """The dialplan's hotline-record started MixMonitor for an on_demand queue."""
    ami.vars.update({"HOTLINE_MIXMON_ID": "0x1", "HOTLINE_MIXMON_POLICY": "on_demand"})


def bridge(live: LiveRecordings, event: str, channel: str = "PJSIP/carrier-01") -> None:
    getattr(live, f"on_{event}")({"Linkedid": "9.1", "Channel": channel})


async def test_an_on_demand_call_is_kept_from_the_desks_start_paused_and_resumed_with_offsets() -> None:
    ami, clock = Ami(), Clock()
    provisional(ami)
    live = LiveRecordings(ami, CONFIG, clock)
    connect(live)
    state = await live.state("1001")
    assert (state.recording, state.paused, state.policy.value) == (False, False, "on_demand")
    with pytest.raises(Conflict, match="not being recorded"):
        await live.pause("1001")
    clock.now = 110.0
    state = await live.start("1001")
    assert state.recording and not state.paused
    assert live.calls["9.1"].kept_from == 10.0  # 10 s of the provisional file are cut at the end
    with pytest.raises(Conflict, match="already being recorded"):
        await live.start("1001")
    clock.now = 125.5  # 15.5 s into the kept recording
    assert (await live.pause("1001")).paused
    assert ami.actions[-1] == {
        "Action": "MixMonitorMute",
        "Channel": "PJSIP/carrier-01",
        "Direction": "both",
        "State": 1,
    }
    with pytest.raises(Conflict, match="already paused"):
        await live.pause("1001")
    clock.now = 140.0
    assert not (await live.resume("1001")).paused
    assert ami.actions[-1]["State"] == 0
    clock.now = 150.0
    await live.pause("1001")  # paused again until the caller hangs up
    clock.now = 160.0
    live.on_Hangup({"Linkedid": "9.1", "Channel": "PJSIP/carrier-01"})
    clock.now = 170.0  # CallEnded comes later: the file stopped at the hangup
    finished = live.finish("9.1")
    assert finished.kept_from == 10.0
    assert [(p.start, p.end, p.by) for p in finished.pauses] == [(15.5, 30.0, "1001"), (40.0, 50.0, "1001")]
    assert live.finish("9.1").kept_from is None
    assert all(a["Action"] == "MixMonitorMute" for a in ami.actions)  # never MixMonitor: no system class


async def test_an_on_demand_call_nobody_asked_to_record_is_not_kept() -> None:
    ami, clock = Ami(), Clock()
    provisional(ami)
    live = LiveRecordings(ami, CONFIG, clock)
    connect(live)
    assert not (await live.state("1001")).recording
    clock.now = 200.0
    live.on_Hangup({"Linkedid": "9.1", "Channel": "PJSIP/carrier-01"})
    finished = live.finish("9.1")
    assert (finished.kept_from, finished.pauses) == (None, [])
    assert ami.actions == []


async def test_offsets_are_in_file_time_so_a_hold_does_not_shift_them() -> None:
    ami, clock = Ami(), Clock()
    provisional(ami)
    live = LiveRecordings(ami, CONFIG, clock)
    connect(live)  # bridged at 100
    bridge(live, "BridgeEnter")  # app_queue's bridge right after AgentConnect: the clock runs already
    clock.now = 105.0
    bridge(live, "BridgeEnter", "PJSIP/1001-0002")  # the agent's leg: not the recorded channel
    bridge(live, "BridgeLeave")  # the desk's hold: the caller hears music, out of the bridge
    clock.now = 125.0
    bridge(live, "BridgeLeave")  # a repeated leave changes nothing
    bridge(live, "BridgeEnter")  # resumed: 5 s written so far
    clock.now = 127.0
    await live.start("1001")
    assert live.calls["9.1"].kept_from == 7.0
    clock.now = 130.0
    await live.pause("1001")
    bridge(live, "BridgeLeave")  # on hold again while paused
    clock.now = 160.0
    bridge(live, "BridgeEnter")
    clock.now = 164.0
    await live.resume("1001")
    clock.now = 170.0
    live.on_Hangup({"Linkedid": "9.1", "Channel": "PJSIP/carrier-01"})
    finished = live.finish("9.1")
    assert finished.kept_from == 7.0
    assert [(p.start, p.end) for p in finished.pauses] == [(3.0, 7.0)]  # not (3.0, 37.0): the hold is not in the file


async def test_a_call_recorded_by_its_queue_counts_from_the_first_bridge() -> None:
    ami, clock = Ami(), Clock()
    ami.vars.update({"HOTLINE_MIXMON_ID": "0x1", "HOTLINE_MIXMON_POLICY": "all", "HOTLINE_QUEUE": "sales"})
    live = LiveRecordings(ami, CONFIG, clock)
    connect(live, queue="sales")
    with pytest.raises(Conflict, match="already being recorded"):
        await live.start("1001")
    clock.now = 103.0
    await live.pause("1001")
    live.on_Hangup({"Linkedid": "9.1", "Channel": "PJSIP/carrier-01"})
    finished = live.finish("9.1")
    assert finished.kept_from == 0.0 and [(p.start, p.end) for p in finished.pauses] == [(3.0, 3.0)]


async def test_an_on_demand_queue_without_a_running_recording_cannot_be_started() -> None:
    ami, clock = Ami(), Clock()  # no HOTLINE_MIXMON_ID: the dialplan started nothing (an older call)
    live = LiveRecordings(ami, CONFIG, clock)
    connect(live)
    with pytest.raises(Conflict, match="not recorded on demand"):
        await live.start("1001")
    assert live.finish("9.1").kept_from is None and ami.actions == []


async def test_only_the_agent_on_the_call_controls_it_and_policies_hold() -> None:
    ami, clock = Ami(), Clock()
    live = LiveRecordings(ami, CONFIG, clock)
    connect(live)
    with pytest.raises(NotFound):
        await live.pause("1002")
    ami.vars["HOTLINE_QUEUE"] = "quiet"
    live = LiveRecordings(ami, CONFIG, clock)
    connect(live, queue="direct-1001")  # a preferred agent's ring: the call's queue comes from the channel
    with pytest.raises(Conflict, match="never recorded"):
        await live.start("1001")
    ami.vars["HOTLINE_MIXMON_ID"] = "0x2"  # the dialplan recorded it (policy all): pauses from the first bridge
    ami.vars["HOTLINE_MIXMON_POLICY"] = "all"
    clock.now = 103.0
    await live.pause("1001")
    assert live.calls["9.1"].pauses[0].start == 3.0
    connect(live, agent="1002", queue="sales")  # transferred through a queue: now 1002's call
    with pytest.raises(NotFound):
        await live.resume("1001")
    ami.refuse = "MixMonitorMute"
    with pytest.raises(TelephonyUnavailable, match="could not resume the recording"):
        await live.resume("1002")
