"""One call end to end through the real parts: SIPp caller (carrier) → Asterisk → FastAGI IVR →
app_queue → SIPp agent phone, with the desk's WebSocket, the recording and the database rows."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Coroutine
from typing import Any

import pytest

from tests.e2e.conftest import SIP_PASSWORD, Api, Login, desk, fetch_all, fetch_row, wait
from tests.e2e.harness import HotlineStack, Phones, SippProcess, sox_stat

pytestmark = pytest.mark.e2e

VIP_CALLER = "13800138000"  # Zhang Wei, VIP (demo data)


async def answered_call(
    stack: HotlineStack,
    phones: Phones,
    api: Api,
    login: Login,
    extension: str,
    caller_number: str,
    ring_ms: int,
    hold_ms: int,
    before_call: Callable[[], Coroutine[Any, Any, None]] | None = None,
) -> tuple[float, dict[str, Any], SippProcess]:
    """Agent ``extension`` (desk open, phone registered, in the queue) takes a call from ``caller_number``
    who keys 0; returns when both phones are done: (time the pop reached the desk, the pop, agent phone)."""
    token = await api.token(extension)
    async with desk(stack, token) as d:
        agent = phones.agent_phone(extension, SIP_PASSWORD(extension), ring_ms=ring_ms)
        await login(extension)
        if before_call:
            await before_call()
        caller = phones.call(caller_number, digit="0", dtmf_at_ms=2000, hold_ms=hold_ms)
        assert await wait(caller.wait, 90) == 0, caller.output()
        assert await wait(agent.wait, 30) == 0, agent.output()
        pop_at, pop = await d.wait_for("screen_pop", 5)
    return pop_at, pop, agent


async def test_known_caller_pops_before_answer_and_is_recorded(
    stack: HotlineStack, phones: Phones, api: Api, agent_session: Login
) -> None:
    await fetch_all(  # Zhang Wei called yesterday: the desk should show it
        stack,
        "INSERT INTO interactions (call_id, caller, dialed, customer_id, outcome, agent, intent, started_at) "
        "SELECT 'yesterday.1', phone, '11183', id, 'answered', '1003', 'pickup', now() - interval '1 day' "
        "FROM customers WHERE phone = $1",
        "+86" + VIP_CALLER,
    )
    pop_at, pop, agent = await answered_call(
        stack, phones, api, agent_session, "1001", VIP_CALLER, ring_ms=1500, hold_ms=9000
    )

    # the pop reached the desk before the agent's phone answered, and named the customer
    answered = agent.sent_at("SIP/2.0 200 OK", "application/sdp")
    assert len(answered) == 1
    assert pop_at < answered[0], f"pop {pop_at:.3f} after 200 OK {answered[0]:.3f}"
    assert pop["known"] is True
    assert pop["caller"] == VIP_CALLER
    assert pop["customer"]["name"] == "Zhang Wei"
    assert pop["customer"]["tier"] == "vip"
    # VIPs get the short menu (greeted by tier) and are queued ahead
    assert pop["ivr_path"] == "vip_menu:0" and pop["intent"] == "agent" and pop["queue"] == "support"
    assert pop["priority"] > 0
    assert [(c["outcome"], c["agent"], c["intent"]) for c in pop["recent_contacts"]] == [("answered", "1003", "pickup")]
    # beside the card: the customer's open work orders with their SLA clock, and their recent shipments
    orders = {o["waybill"]: o for o in pop["work_orders"]}
    assert set(orders) == {"7700000000024", "7700000000032"}
    assert orders["7700000000032"]["type"] == "claim" and orders["7700000000032"]["claim_kind"] == "damage"
    assert all(o["sla_state"] in ("ok", "near", "breached") and o["sla_due_at"] for o in orders.values())
    shipments = {s["waybill"]: s for s in pop["shipments"]}
    assert shipments["7700000000032"]["exception"] == "damage"
    assert shipments["7700000000024"]["status"] == "in_transit" and shipments["7700000000024"]["last_scan_place"]

    row = await fetch_row(stack, "SELECT * FROM interactions WHERE call_id = $1", pop["call_id"])
    customer_id = (await fetch_row(stack, "SELECT id FROM customers WHERE phone = $1", "+86" + VIP_CALLER))["id"]
    assert row["caller"] == VIP_CALLER and row["dialed"] == "11183"
    assert row["customer_id"] == customer_id
    assert row["outcome"] == "answered"
    assert row["agent"] == "1001" and row["queue"] == "support" and row["ivr_path"] == "vip_menu:0"
    assert 1.0 <= row["wait_seconds"] <= 6.0  # 1.5 s of ringing plus the queue's own work
    # the caller hangs up 9.4 s after keying 0; ringing took 1.5 s of that
    assert 6.0 <= row["talk_seconds"] <= 9.5, row["talk_seconds"]

    # Asterisk's own queue_log, ingested by the controller (times are whole seconds there)
    events: list[Any] = []
    for _ in range(40):
        events = await fetch_all(
            stack, "SELECT event, agent, time FROM queue_log WHERE callid = $1 ORDER BY id", pop["call_id"]
        )
        if any(e["event"].startswith("COMPLETE") for e in events):
            break
        await asyncio.sleep(0.25)
    connect_at = next(e["time"] for e in events if e["event"] == "CONNECT")
    assert abs((connect_at - row["answered_at"]).total_seconds()) < 1.5  # Asterisk's clock and ours agree
    names = [e["event"] for e in events]
    for expected in ("ENTERQUEUE", "CONNECT"):
        assert expected in names, names
    assert names.index("ENTERQUEUE") < names.index("CONNECT")
    assert names[-1] in ("COMPLETECALLER", "COMPLETEAGENT"), names
    assert {e["agent"] for e in events if e["event"] in ("CONNECT", "COMPLETECALLER", "COMPLETEAGENT")} == {
        "Wang Fang"  # queues.conf: log_membername_as_agent; agent 1001's name
    }

    rec = await fetch_row(stack, "SELECT * FROM recordings WHERE call_id = $1", pop["call_id"])
    path = stack.var / "recordings" / rec["path"]
    assert path.exists() and rec["format"] == "opus" and path.suffix == ".opus"  # one compressed file per call
    assert not path.with_suffix(".wav").exists() and rec["policy"] == "all"
    stats = sox_stat(path)
    assert abs(stats["Length (seconds)"] - row["talk_seconds"]) < 1.5, (stats, row["talk_seconds"])
    assert stats["RMS     amplitude"] > 0.02, stats  # both parties' audio, not silence
    assert rec["agent"] == "1001" and rec["customer_id"] == customer_id and rec["size_bytes"] == path.stat().st_size

    r = await api.get("/api/interactions", await api.token("1001"), limit=5)
    assert pop["call_id"] in [i["call_id"] for i in r.json()]
    metrics = (await api.http.get("/metrics")).text
    assert 'hotline_calls_total{outcome="answered"}' in metrics and "hotline_ami_connected 1.0" in metrics
    # the IVR set its routing variables in one MSet that Asterisk took
    assert "MSet refused" not in stack.log_tail(2000)


async def test_unknown_caller_reaches_agent_with_unknown_pop(
    stack: HotlineStack, phones: Phones, api: Api, agent_session: Login
) -> None:
    pop_at, pop, agent = await answered_call(
        stack, phones, api, agent_session, "1002", "13311112222", ring_ms=1000, hold_ms=5000
    )

    assert pop_at < agent.sent_at("SIP/2.0 200 OK", "application/sdp")[0]
    assert pop["known"] is False and pop["customer"] is None and pop["lookup_failed"] is False
    assert pop["caller"] == "13311112222"
    row = await fetch_row(stack, "SELECT * FROM interactions WHERE call_id = $1", pop["call_id"])
    assert row["customer_id"] is None and row["outcome"] == "answered" and row["agent"] == "1002"
    assert await fetch_row(stack, "SELECT id FROM recordings WHERE call_id = $1", pop["call_id"])


async def test_no_agent_logged_in_offers_voicemail(stack: HotlineStack, phones: Phones, api: Api) -> None:
    token = await api.token("demo-supervisor", "demo-supervisor")  # the agents list is a supervisor's
    agents = (await api.get("/api/agents", token)).json()
    assert all(a["state"] == "logged_out" for a in agents), agents

    inbox = stack.var / "asterisk-spool" / "voicemail" / "hotline" / "11183" / "INBOX"
    before = set(inbox.glob("*.wav")) if inbox.exists() else set()
    # keys 0, hears the no-agent message (~9 s) and the tone, speaks for a few seconds, hangs up
    caller = phones.call("13900139000", digit="0", dtmf_at_ms=2000, hold_ms=16000)
    assert await wait(caller.wait, 90) == 0, caller.output()

    row = await fetch_row(
        stack, "SELECT * FROM interactions WHERE caller = $1 AND outcome = 'voicemail'", "13900139000"
    )
    assert row["agent"] is None and row["answered_at"] is None
    new = set(inbox.glob("*.wav")) - before
    assert len(new) == 1, f"expected one new voicemail in {inbox}"
    message = new.pop()
    assert sox_stat(message)["Length (seconds)"] > 2.0  # the caller was heard, not dropped
    assert "callerid=13900139000" in message.with_suffix(".txt").read_text().replace('"', "").replace("<", "").replace(
        ">", " "
    )


async def test_database_down_caller_still_reaches_agent(
    stack: HotlineStack, phones: Phones, api: Api, agent_session: Login
) -> None:
    """With PostgreSQL stopped, the known caller is treated as unknown and still served; the call's
    rows are written once the database is back."""
    from hotline.pgcluster import LocalCluster

    cluster = LocalCluster(stack.var, stack.ports["pg"])

    async def stop_database() -> None:
        await asyncio.to_thread(cluster.stop)

    try:
        _, pop, _ = await answered_call(
            stack, phones, api, agent_session, "1004", VIP_CALLER, ring_ms=1000, hold_ms=4000, before_call=stop_database
        )
    finally:
        await asyncio.to_thread(cluster.start)

    assert pop["known"] is False and pop["lookup_failed"] is True
    row = await fetch_row(stack, "SELECT * FROM interactions WHERE call_id = $1", pop["call_id"], timeout=30)
    assert row["outcome"] == "answered" and row["agent"] == "1004"
    for _ in range(40):  # the health probe looks every 2 s: it reports the database back shortly
        health = stack.health()
        if health is not None and health["components"]["database"]["ok"]:
            break
        await asyncio.sleep(0.25)
    assert health is not None and health["components"]["database"]["ok"] is True, health


async def test_asterisk_crash_is_restarted_and_agents_rejoin(
    stack: HotlineStack, api: Api, agent_session: Login
) -> None:
    """Asterisk dies: the controller restarts it, the AMI client reconnects, and the agents who were
    logged in are members of the queue again, with their pause state."""
    import os
    import signal
    import time

    token = await agent_session("1006")
    r = await api.post("/api/agents/me/pause", token, {"reason": "training"})
    assert r.status_code == 200
    assert "PJSIP/1006" in stack.asterisk_cli("queue show support")
    old_pid = int((stack.var / "asterisk.pid").read_text())
    os.kill(old_pid, signal.SIGKILL)

    deadline = time.monotonic() + 60
    members = ""
    while time.monotonic() < deadline:
        await asyncio.sleep(1)
        health = stack.health()
        new_pid = int((stack.var / "asterisk.pid").read_text())
        if health and health["ok"] and new_pid != old_pid:
            members = stack.asterisk_cli("queue show support")
            if "PJSIP/1006" in members:
                break
    assert "PJSIP/1006" in members, f"member not restored: {members!r}\n{stack.log_tail(20)}"
    line = next(x for x in members.splitlines() if "PJSIP/1006" in x)
    assert "(paused:training" in line, line


async def test_controller_killed_mid_call_the_call_goes_on_and_is_logged(
    stack: HotlineStack, phones: Phones, api: Api, agent_session: Login
) -> None:
    """The controller dies while a caller talks to an agent: Asterisk keeps the call, the supervisor
    restarts the controller, which adopts the live call and writes its interaction row at the hangup."""
    import os
    import signal
    import time

    token = await api.token("1007")
    async with desk(stack, token) as d:
        agent = phones.agent_phone("1007", SIP_PASSWORD("1007"), ring_ms=1000)
        await agent_session("1007")
        caller = phones.call("13900139000", digit="0", dtmf_at_ms=2000, hold_ms=14000, trace=True)
        _, pop = await d.wait_for("screen_pop", 30)
        await d.wait_for("call_answered", 10)
    old_pid = int((stack.var / "controller.pid").read_text())
    os.kill(old_pid, signal.SIGKILL)

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        await asyncio.sleep(0.5)
        health = stack.health()
        if health and health["ok"] and int((stack.var / "controller.pid").read_text()) != old_pid:
            break
    else:
        raise AssertionError(f"controller not back: {stack.health()}\n{stack.log_tail(30)}")
    assert caller.proc.poll() is None, "the call ended with the controller"

    assert await wait(caller.wait, 60) == 0, caller.output()
    assert await wait(agent.wait, 30) == 0, agent.output()
    assert len(caller.sent_at("BYE")) == 1, "Asterisk hung up on the caller: the call was dropped"

    row = await fetch_row(stack, "SELECT * FROM interactions WHERE call_id = $1", pop["call_id"], timeout=30)
    li_na = (await fetch_row(stack, "SELECT id FROM customers WHERE phone = $1", "+8613900139000"))["id"]
    assert row["outcome"] == "answered" and row["agent"] == "1007" and row["customer_id"] == li_na
    assert row["ivr_path"] == "main:0" and row["queue"] == "english"  # Li Na speaks English (acd/routing.yaml)
    assert 10.0 <= row["talk_seconds"] <= 16.0, row["talk_seconds"]  # estimated from the agent leg's age
    assert await fetch_row(stack, "SELECT id FROM recordings WHERE call_id = $1", pop["call_id"])


async def test_controller_hung_in_the_ivr_the_caller_still_reaches_an_agent(
    stack: HotlineStack, phones: Phones, api: Api, agent_session: Login
) -> None:
    """The controller freezes while a caller is in its IVR: the supervisor notices it no longer answers and
    kills it; the AGI socket closes, the dialplan's defaults queue the caller, an agent answers."""
    import os
    import signal
    import time

    agent = phones.agent_phone("1008", SIP_PASSWORD("1008"), ring_ms=1000)
    await agent_session("1008")
    caller = phones.call("13600136000", digit="0", dtmf_at_ms=30000, hold_ms=6000, trace=True)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        health = stack.health()
        if health and health["components"]["agi"]["active"] >= 1:
            break
        await asyncio.sleep(0.1)
    else:
        raise AssertionError(f"the call never reached the IVR: {stack.health()}")
    frozen = int((stack.var / "controller.pid").read_text())
    os.kill(frozen, signal.SIGSTOP)
    try:
        assert await wait(agent.wait, 60) == 0, agent.output()  # answered while the caller still waited
        assert agent.sent_at("SIP/2.0 200 OK", "application/sdp"), "the agent's phone never answered"
        assert await wait(caller.wait, 60) == 0, caller.output()
    finally:
        with contextlib.suppress(ProcessLookupError):  # the supervisor has normally killed it already
            os.kill(frozen, signal.SIGCONT)
    assert len(caller.sent_at("BYE")) == 1, "the caller was hung up on"
    assert int((stack.var / "controller.pid").read_text()) != frozen
    row = await fetch_row(
        stack, "SELECT * FROM interactions WHERE caller = $1 ORDER BY id DESC LIMIT 1", "13600136000", timeout=30
    )
    assert row["agent"] == "1008" and row["outcome"] == "answered" and row["ivr_path"] is None


async def test_unknown_number_is_told_so_and_released(stack: HotlineStack, phones: Phones) -> None:
    caller = phones.call("13800138000", number="95555", dtmf_at_ms=8000, hold_ms=1000, trace=True)
    assert await wait(caller.wait, 60) == 0, caller.output()
    assert caller.sent_at("BYE") == [], "Asterisk should have released the call after its message"
    assert len(caller.sent_at("SIP/2.0 200 OK")) == 1  # our answer to Asterisk's BYE
    row = await fetch_row(stack, "SELECT * FROM interactions WHERE dialed = $1", "95555")
    assert row["outcome"] == "ivr_hangup" and row["queue"] is None  # logged, though never served


async def test_caller_hanging_up_in_the_menu_is_logged_and_frees_the_ivr(stack: HotlineStack, phones: Phones) -> None:
    """A wrong key, then the caller gives up during the menu: the IVR session ends cleanly (no stuck AGI
    socket), and the call is still logged."""
    caller = phones.call("13700137000", digit="7", dtmf_at_ms=1500, hold_ms=1500, trace=True)
    assert await wait(caller.wait, 60) == 0, caller.output()
    assert len(caller.sent_at("BYE")) == 1
    row = await fetch_row(
        stack, "SELECT * FROM interactions WHERE caller = $1 AND outcome = 'ivr_hangup'", "13700137000"
    )
    assert row["queue"] is None and row["agent"] is None and row["customer_id"] is not None
    health = stack.health()
    assert health is not None and health["components"]["agi"]["active"] == 0
    assert "AGI handler failed" not in stack.log_tail(200)
