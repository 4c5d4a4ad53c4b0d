"""The IVR's failure paths through the real Asterisk, and its queue-load condition: whatever breaks behind
the menu, the caller hears the apology and reaches a person (the SIPp agent answers), and what the call did
is stored exactly once after the fault is over.

One stack for the module. Its English menus listen (``menus: true``) with a decoding budget no engine
can meet (``decode_timeout_s`` of a microsecond): the speech engine times out on the first word, which is
how a hung or overloaded recogniser looks to a call. Callers who key from the greeting on never reach the
recogniser, so the database and look-up faults take the keypad path of the demo menu. Its menu is the demo's
with the call-back offered from an expected wait of one second, so the queue-load condition is proven on
Asterisk's live figures too (a caller behind a busy agent).
"""

from __future__ import annotations

import asyncio
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest
import yaml

from ivr.voice.config import config_path
from tests.e2e.conftest import SIP_PASSWORD, Login, fetch_all, wait
from tests.e2e.harness import HotlineStack, Phones, SippProcess, write_menu
from tests.e2e.test_ivr import KNOWN_WAYBILL, ivr_call, nodes, walk_of
from tests.e2e.test_resilience import cluster_pids, signal_all, wait_answered
from tests.e2e.test_voice import spoken

pytestmark = pytest.mark.e2e

DECODE_BUDGET_S = 1e-6


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HotlineStack]:
    s = HotlineStack(tmp_path_factory.mktemp("ivr-faults-stack"))
    config = yaml.safe_load(config_path().read_text(encoding="utf-8"))
    config["languages"]["en"]["menus"] = True
    config["decode_timeout_s"] = DECODE_BUDGET_S
    (s.workdir / "voice.yaml").write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    s.env["HOTLINE_VOICE_CONFIG"] = str(s.workdir / "voice.yaml")
    # the demo menu with the call-back offer from a wait of one second: any caller behind a busy agent
    s.env["HOTLINE_IVR_MENU"] = str(write_menu(s.workdir / "menu.yaml", long_wait_s=1))
    try:
        s.start()
        yield s
    finally:
        s.stop()


async def stored_once(stack: HotlineStack, caller: str, last_node: str) -> list[tuple[str, str]]:
    """The caller's walk once stored, checked to be there exactly once: one interaction, one row per visit."""
    walk = await walk_of(stack, caller, last_node, timeout=60)
    interactions = await fetch_all(stack, "SELECT call_id FROM interactions WHERE caller = $1", caller)
    assert len(interactions) == 1, interactions
    counts = await fetch_all(
        stack,
        "SELECT seq, count(*) AS n FROM ivr_visits WHERE call_id = $1 GROUP BY seq HAVING count(*) > 1",
        interactions[0]["call_id"],
    )
    assert counts == [], counts
    assert [r["seq"] for r in walk] == list(range(1, len(walk) + 1))
    return nodes(walk)


async def interaction(stack: HotlineStack, caller: str) -> asyncpg.Record:
    deadline = time.monotonic() + 30
    while True:  # the row is upserted at the queue entry and again when the call ends
        rows = await fetch_all(stack, "SELECT * FROM interactions WHERE caller = $1", caller)
        if rows and rows[0]["ended_at"] is not None and rows[0]["agent"]:
            return rows[0]
        assert time.monotonic() < deadline, rows
        await asyncio.sleep(0.5)


def stopped(pid: int) -> bool:
    """Whether the process is stopped by a signal (state ``T`` in /proc)."""
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "T"


async def finished(proc: SippProcess, timeout: float = 120) -> None:
    rc = await asyncio.to_thread(proc.wait, timeout)
    assert rc == 0, proc.output()


async def test_database_frozen_during_the_ivr_apologises_and_reaches_an_agent(
    stack: HotlineStack, phones: Phones, agent_session: Login
) -> None:
    """PostgreSQL frozen (SIGSTOP, as a hung database host) while a caller tracks a parcel: the caller look-up
    and the tracking both give up in time, the apology plays and the agent answers; after SIGCONT the walk and
    the interaction are stored once each."""
    caller_number = "13322220001"
    agent = phones.agent_phone("1009", SIP_PASSWORD("1009"), ring_ms=500, timeout_s=150)
    await agent_session("1009")
    frozen = cluster_pids(stack)
    signal_all(frozen, signal.SIGSTOP)
    try:
        # the greeting comes after the customer look-up gives up (1.5 s); 1 then the waybill
        caller = ivr_call(phones, caller_number, [(5000, "1"), (3000, KNOWN_WAYBILL + "#")], 12000)
        await wait_answered(agent, 1, 60)
        answered_frozen = stopped(frozen[0])
    finally:
        signal_all(list(reversed(frozen)), signal.SIGCONT)
    await finished(caller)
    assert await wait(agent.wait, 60) == 0, agent.output()
    assert answered_frozen  # the agent answered while the database was still frozen

    walk = await stored_once(stack, caller_number, "agent")
    assert ("track_waybill", "valid") in walk, walk
    assert walk[-2:] == [("track_lookup", "failed"), ("agent", walk[-1][1])], walk
    assert walk[-1][1].startswith("queue support"), walk
    row = await interaction(stack, caller_number)
    assert row["agent"] == "1009" and row["self_service"] is False


async def test_a_failing_lookup_apologises_and_reaches_an_agent(
    stack: HotlineStack, phones: Phones, agent_session: Login
) -> None:
    """The shipments table gone (every tracking query raises) while the rest of the database works: the
    caller keys a waybill, hears the apology and the agent answers; the walk is stored once."""
    caller_number = "13322220002"
    agent = phones.agent_phone("1010", SIP_PASSWORD("1010"), ring_ms=500)
    await agent_session("1010")
    conn = await asyncpg.connect(stack.db_dsn, timeout=5)
    try:
        await conn.execute("ALTER TABLE shipments RENAME TO shipments_away")
        try:
            caller = ivr_call(phones, caller_number, [(2500, "1"), (3000, KNOWN_WAYBILL + "#")], 10000)
            await wait_answered(agent, 1, 60)
        finally:
            await conn.execute("ALTER TABLE shipments_away RENAME TO shipments")
    finally:
        await conn.close()
    await finished(caller)
    assert await wait(agent.wait, 60) == 0, agent.output()

    walk = await stored_once(stack, caller_number, "agent")
    assert walk[-2:] == [("track_lookup", "failed"), ("agent", walk[-1][1])], walk
    assert walk[-1][1].startswith("queue support"), walk
    row = await interaction(stack, caller_number)
    assert row["agent"] == "1010" and row["self_service"] is False
    assert row["intent"] == "agent"  # the fallback queue's own intent: a person, not the self-service


async def test_speech_engine_timing_out_falls_back_to_the_keypad(
    stack: HotlineStack, tmp_path: Path, agent_session: Login
) -> None:
    """The caller speaks at the listening main menu; the recogniser misses its budget on the first word; the
    question is asked again by keys, the caller keys 0 and the agent answers. No apology: the menu goes on."""
    caller_number = "13322220003"
    work = tmp_path / "line"
    work.mkdir()
    spoken(work / "caller.alaw", "complaint")
    phones = Phones(stack, work)
    mark = stack.log_mark()
    try:
        agent = phones.agent_phone("1008", SIP_PASSWORD("1008"), ring_ms=500)
        await agent_session("1008")
        # the word is heard at ~1.5 s of every 5 s loop; the main menu listens from ~3 s; 0 keyed at 13 s
        caller = phones.call(caller_number, digit="0", dtmf_at_ms=13000, hold_ms=6000, trace=True)
        await wait_answered(agent, 1, 60)
        await finished(caller)
        assert await wait(agent.wait, 60) == 0, agent.output()
    finally:
        phones.stop_all()
    log = stack.log_since(mark)
    assert "voice question falls back to the keypad" in log and f"took over {DECODE_BUDGET_S}" in log, log[-3000:]

    walk = await stored_once(stack, caller_number, "agent")
    assert ("main", "key 0") in walk and all(result != "failed" for _, result in walk), walk
    assert ("agent_load", "no") in walk, walk  # Asterisk's live queue figures read: an agent free, no wait
    row = await interaction(stack, caller_number)
    assert row["agent"] == "1008"
    health = stack.health()
    assert health is not None
    fallbacks = health["voice"]["fallbacks"]
    assert any(reason.startswith("speech engine took over") for reason in fallbacks), fallbacks


async def test_a_caller_behind_a_busy_agent_is_offered_a_callback_from_the_live_queue_figures(
    stack: HotlineStack, phones: Phones, agent_session: Login
) -> None:
    """The only agent is on a call; the next caller keys 0: Asterisk's figures (nobody free, one agent, an
    average talk time) make a wait over the module menu's one second, the caller hears the wait in minutes
    and keys 1; the call-back is stored by the ACD for that call."""
    agent = phones.agent_phone("1007", SIP_PASSWORD("1007"), ring_ms=500, timeout_s=120)
    await agent_session("1007")
    talking = phones.call("13322220004", digit="0", dtmf_at_ms=4000, hold_ms=40000, timeout_s=120)
    await wait_answered(agent, 1, 60)
    behind = "13322220005"
    # 0 at the main menu; the wait is said (~4 s), then the choice: 1 for a call back
    caller = ivr_call(phones, behind, [(4000, "0"), (8000, "1")], 15000)
    await finished(caller)
    walk = await stored_once(stack, behind, "long_wait_end")
    assert ("agent_load", "yes") in walk and ("long_wait", "said") in walk, walk
    assert ("long_wait_choice", "key 1") in walk and ("long_wait_callback", "requested") in walk, walk
    (visit,) = await fetch_all(
        stack,
        "SELECT v.input FROM ivr_visits v JOIN interactions i ON i.call_id = v.call_id "
        "WHERE i.caller = $1 AND v.node = 'agent_load'",
        behind,
    )
    assert visit["input"].startswith("waiting 0, wait "), visit  # nobody waiting, yet a wait: the agent is busy
    callbacks = await fetch_all(
        stack,
        "SELECT c.queue, c.reason FROM callbacks c JOIN interactions i ON i.call_id = c.call_id WHERE i.caller = $1",
        behind,
    )
    assert [(c["queue"], c["reason"]) for c in callbacks] == [("support", "long_wait")]
    talking.stop()
    agent.stop()
