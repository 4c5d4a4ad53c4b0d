"""On-demand recording on the real Asterisk, with an AMI user that holds no ``system`` write class: the
dialplan records the support queue's calls provisionally; a call nobody asked to record leaves no file and
no row, one where the desk pressed "record" midway keeps the audio from there on."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import pytest

from tests.e2e.conftest import SIP_PASSWORD, Api, Login, desk, fetch_all, fetch_row, wait
from tests.e2e.harness import HotlineStack, Phones, sox_stat

pytestmark = pytest.mark.e2e

CALLER = "13800138000"  # Zhang Wei (demo data): keys 0 for an agent, queued in support


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HotlineStack]:
    """A stack of its own: the support queue records on demand (the shipped configuration records all)."""
    workdir = tmp_path_factory.mktemp("ondemand")
    config = workdir / "recordings.yaml"
    config.write_text("default: {policy: all}\nqueues:\n  support: {policy: on_demand}\n")
    s = HotlineStack(workdir)
    s.env["HOTLINE_RECORDINGS_CONFIG"] = str(config)
    try:
        s.start()
        yield s
    finally:
        s.stop()


async def _on_the_call(api: Api, token: str, timeout: float = 60) -> tuple[float, dict[str, object]]:
    """When the desk first sees the agent's call (polled every 0.1 s), and its recording state then."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        r = await api.get("/api/calls/me/recording", token)
        if r.status_code == 200:
            return time.monotonic(), r.json()
        await asyncio.sleep(0.1)
    raise AssertionError("the agent's call never reached the desk's recording controls")


def _files(stack: HotlineStack, call_id: str) -> list[str]:
    return sorted(p.name for p in (stack.var / "recordings").rglob(f"{call_id}.*"))


async def test_on_demand_calls_are_kept_only_from_the_desks_record(
    stack: HotlineStack, phones: Phones, api: Api, agent_session: Login
) -> None:
    manager = (stack.var / "asterisk-etc" / "manager.conf").read_text()
    assert "write = agent,reporting,originate,call\n" in manager  # the controller cannot start MixMonitor
    token = await api.token("1001")
    agent = phones.agent_phone("1001", SIP_PASSWORD("1001"), ring_ms=1000, calls=2)
    await agent_session("1001")
    async with desk(stack, token) as d:
        # 1. nobody asks: the provisional file is deleted, no recording row
        caller = phones.call(CALLER, digit="0", dtmf_at_ms=2000, hold_ms=9000)
        _, state = await _on_the_call(api, token)
        assert (state["recording"], state["policy"]) == (False, "on_demand"), state
        first = state["call_id"]
        assert [n for n in _files(stack, str(first)) if n.endswith(".provisional.wav")], _files(stack, str(first))
        assert await wait(caller.wait, 90) == 0, caller.output()
        await fetch_row(stack, "SELECT call_id FROM interactions WHERE call_id = $1", first)
        await asyncio.sleep(3)  # the controller settles the call's file after its CallEnded
        assert _files(stack, str(first)) == []
        assert await fetch_all(stack, "SELECT id FROM recordings WHERE call_id = $1", first) == []

        # 2. the agent presses "record" about 4 s into the call: the kept file starts there
        await asyncio.sleep(2)  # the agent's wrap-up, if any, and the phone ready again
        caller = phones.call(CALLER, digit="0", dtmf_at_ms=2000, hold_ms=14000)
        bridged_at, state = await _on_the_call(api, token)
        second = state["call_id"]
        assert second != first and state["recording"] is False
        await asyncio.sleep(4)
        r = await api.post("/api/calls/me/recording/start", token)
        started_at = time.monotonic()
        assert r.status_code == 200 and r.json()["recording"] is True, r.text
        assert (await api.post("/api/calls/me/recording/start", token)).status_code == 409
        assert await wait(caller.wait, 90) == 0, caller.output()
        assert await wait(agent.wait, 60) == 0, agent.output()
        assert d.of_type("screen_pop")

    row = await fetch_row(stack, "SELECT * FROM interactions WHERE call_id = $1", second)
    rec = await fetch_row(stack, "SELECT * FROM recordings WHERE call_id = $1", second, timeout=30)
    path = stack.var / "recordings" / rec["path"]
    assert rec["policy"] == "on_demand" and rec["format"] == "opus" and path.exists()
    assert _files(stack, str(second)) == [path.name]  # neither the provisional nor the cut WAV is left
    stats = await asyncio.to_thread(sox_stat, path)
    skipped = started_at - bridged_at
    expected = row["talk_seconds"] - skipped
    print(
        f"talk {row['talk_seconds']:.2f} s, record pressed {skipped:.2f} s in, kept {stats['Length (seconds)']:.2f} s"
    )
    assert abs(stats["Length (seconds)"] - expected) < 1.5, (stats, expected)
    assert stats["Length (seconds)"] < row["talk_seconds"] - 2  # the first seconds were cut
    assert stats["RMS     amplitude"] > 0.02, stats  # the call's audio, not silence
    audit = await fetch_all(stack, "SELECT username, action FROM recording_access WHERE call_id = $1", second)
    assert [tuple(a) for a in audit] == [("1001", "start")]
