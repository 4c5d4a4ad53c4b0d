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
        if name == "MixMonitor":
            self.vars["HOTLINE_MIXMON_ID"] = "0x1"
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


async def test_an_on_demand_call_is_started_paused_and_resumed_by_its_agent_with_offsets() -> None:
    ami, clock = Ami(), Clock()
    live = LiveRecordings(ami, CONFIG, clock)
    connect(live)
    state = await live.state("1001")
    assert (state.recording, state.paused, state.policy.value) == (False, False, "on_demand")
    with pytest.raises(Conflict, match="not being recorded"):
        await live.pause("1001")
    clock.now = 110.0
    state = await live.start("1001")
    assert ami.actions[-1] == {
        "Action": "MixMonitor",
        "Channel": "PJSIP/carrier-01",
        "File": "/rec/2026/11/24/9.1.wav",
        "Options": "bi(HOTLINE_MIXMON_ID)",
    }
    assert state.recording
    with pytest.raises(Conflict, match="already being recorded"):
        await live.start("1001")
    clock.now = 125.5  # 15.5 s into the recording
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
    pauses, on_demand = live.finish("9.1")
    assert on_demand
    assert [(p.start, p.end, p.by) for p in pauses] == [(15.5, 30.0, "1001"), (40.0, 50.0, "1001")]
    assert live.finish("9.1") == ([], False)


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
    clock.now = 103.0
    await live.pause("1001")
    assert live.calls["9.1"].pauses[0].start == 3.0
    connect(live, agent="1002", queue="sales")  # transferred through a queue: now 1002's call
    with pytest.raises(NotFound):
        await live.resume("1001")
    ami.refuse = "MixMonitorMute"
    with pytest.raises(TelephonyUnavailable, match="could not resume the recording"):
        await live.resume("1002")
