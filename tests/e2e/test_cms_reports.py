"""The CMS's report agrees with what callers did, through the real stack (SIPp → Asterisk → IVR → app_queue):
one call answered after about a second of ringing, one caller who gives up after ~9 s in the queue and one
who gives up after ~2 s (a short abandon) while the only agent is busy, then one call the agent answers and
transfers from the desk to a second agent. The report (from the per-call facts
and their 15-minute aggregates), the calls' facts and Asterisk's queue_log say the same.

Earlier tests of the session may have calls in the same 15-minute interval: the report is read once every
stored call has its facts (before) and compared after."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.e2e.conftest import SIP_PASSWORD, Api, Login, desk, fetch_all, wait
from tests.e2e.harness import HotlineStack, Phones

pytestmark = pytest.mark.e2e

CALLERS = ("13512340001", "13512340002", "13512340003", "13512340004")  # unknown callers: the support queue
COUNTS = ("offered", "answered", "abandoned", "short_abandoned", "transfers")
EXPECTED = {"offered": 3, "answered": 2, "abandoned": 1, "short_abandoned": 1, "transfers": 1}
WITHOUT_FACTS = (
    "SELECT count(*) AS n FROM interactions i LEFT JOIN cms_call_facts f ON f.call_id = i.call_id "
    "WHERE f.call_id IS NULL OR f.source <> i.source"
)


async def report(api: Api, token: str, since: datetime) -> dict[str, Any]:
    until = datetime.now(UTC) + timedelta(hours=1)
    r = await api.get(
        "/api/reports/summary", token, since=since.isoformat(), until=until.isoformat(), queue="support", by="queue"
    )
    assert r.status_code == 200, r.text
    return dict(r.json()["total"])


async def settled(stack: HotlineStack, timeout: float = 60) -> None:
    """Every stored call has its facts (the reports' job has caught up)."""
    deadline = time.monotonic() + timeout
    while (await fetch_all(stack, WITHOUT_FACTS))[0]["n"]:
        assert time.monotonic() < deadline, "calls without facts"
        await asyncio.sleep(1)
    await asyncio.sleep(6)  # one more pass of the job: their aggregates


async def test_the_report_counts_the_scripted_calls(
    stack: HotlineStack, phones: Phones, api: Api, agent_session: Login
) -> None:
    since = datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=1)
    supervisor = await api.token("demo-supervisor", "demo-supervisor")
    await settled(stack)
    before = await report(api, supervisor, since)

    token = await api.token("1005")
    async with desk(stack, token) as d:
        agent = phones.agent_phone("1005", SIP_PASSWORD("1005"), ring_ms=1000, calls=2, timeout_s=150)
        await agent_session("1005")
        talker = phones.call(CALLERS[0], digit="0", dtmf_at_ms=2000, hold_ms=25000)
        await d.wait_for("screen_pop", 20)
        await asyncio.sleep(3)  # the agent is on the call: the next callers wait in the queue
        leaver = phones.call(CALLERS[1], digit="0", dtmf_at_ms=2000, hold_ms=9000)
        quick = phones.call(CALLERS[2], digit="0", dtmf_at_ms=2000, hold_ms=2000)
        for p in (quick, leaver, talker):
            assert await wait(p.wait, 90) == 0, p.output()

        # the fourth: answered by 1005, handed to 1006 from the desk (a blind transfer to an agent)
        other = phones.agent_phone("1006", SIP_PASSWORD("1006"), ring_ms=500, timeout_s=90)
        await asyncio.sleep(2)  # 1005's wrap-up guard after the first call
        answered = len(d.of_type("call_answered"))
        handed = phones.call(CALLERS[3], digit="0", dtmf_at_ms=2000, hold_ms=20000)
        deadline = time.monotonic() + 30
        while len(d.of_type("call_answered")) == answered:  # this call's, not the first one's
            assert time.monotonic() < deadline, "the fourth call was not answered"
            await asyncio.sleep(0.1)
        await agent_session("1006")  # logged in only now: the call was 1005's to answer
        r = await api.post("/api/calls/me/transfer", token, {"mode": "blind", "kind": "agent", "target": "1006"})
        assert r.status_code == 200, r.text
        assert await wait(handed.wait, 60) == 0, handed.output()
        assert await wait(agent.wait, 30) == 0, agent.output()
        assert await wait(other.wait, 30) == 0, other.output()

    deadline = time.monotonic() + 90  # queue_log every 2 s, facts after a 10 s grace, the job every 10 s
    delta: dict[str, int] = {}
    while time.monotonic() < deadline:
        after = await report(api, supervisor, since)
        delta = {k: after[k] - before[k] for k in COUNTS}
        if delta == EXPECTED:
            break
        await asyncio.sleep(2)
    # four entered the queue; the short abandon is left out of the offered calls
    assert delta == EXPECTED, (before, after)

    facts = {
        r["caller"]: r
        for r in await fetch_all(
            stack,
            "SELECT i.caller, f.* FROM cms_call_facts f JOIN interactions i ON i.call_id = f.call_id "
            "WHERE i.started_at >= $1 AND right(i.caller, 11) = ANY($2::text[])",
            since,
            list(CALLERS),
        )
    }
    talked, left, quit_, passed = (next(v for k, v in facts.items() if k.endswith(c)) for c in CALLERS)
    assert talked["answered"] and talked["agent"] == "1005" and talked["in_sl"]
    assert 0 <= talked["wait_s"] <= 6 and 1 <= talked["ring_s"] <= 4  # rung for a second
    assert 10 <= talked["talk_s"] <= 30
    assert left["abandoned"] and not left["short_abandon"] and 5 <= left["wait_s"] <= 20
    assert quit_["abandoned"] and quit_["short_abandon"] and quit_["wait_s"] < 5
    # the transferred call counts once, for the agent who answered it, with its transfer
    assert passed["answered"] and passed["agent"] == "1005" and passed["transfers"] == 1

    lines = (await api.get("/api/queue-log", supervisor, limit=200)).json()
    mine = {x["callid"]: x for x in lines if datetime.fromisoformat(x["time"]) >= since and x["event"] == "ABANDON"}
    assert float(mine[left["call_id"]]["data3"]) == left["wait_s"]
    assert float(mine[quit_["call_id"]]["data3"]) == quit_["wait_s"]
