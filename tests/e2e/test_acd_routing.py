"""The ACD on the real stack (Asterisk, app_queue, the controller's router and agent states), with SIPp callers
and agents: a VIP overtakes waiting regular callers; the dedicated agent rings first, then the queue, and the
ring-no-answer pauses that agent; wrap-up blocks new calls until the disposition; a callback waits in the queue
at its place and calls the customer back, agent first.

The module runs its own stack with a routing file of short ring times (``HOTLINE_ACD_ROUTING``) and the
customer's phone for callbacks on a port of its own; its tests share it.
"""

from __future__ import annotations

import asyncio
import inspect
import re
import socket
import time
from collections.abc import Iterator
from typing import Any

import pytest
import yaml

from acd.rules import DEFAULT_RULES
from tests.e2e.conftest import SIP_PASSWORD, Api, Login, fetch_all, fetch_row, wait
from tests.e2e.harness import HotlineStack, Phones, SippProcess, free_port

pytestmark = pytest.mark.e2e

VIP = "13800138000"  # Zhang Wei, VIP (demo data)
KEY_ACCOUNT = "13700137000"  # Chen Gang, key account, dedicated agent 1001
ENGLISH = "13900139000"  # Li Na, whose record says English: the `english` queue
NAMES = {"1001": "Wang Fang", "1002": "Li Wei", "1003": "Zhang Min", "1004": "Liu Yang", "1005": "Chen Jing"}


@pytest.fixture(scope="module")
def customer_port() -> int:
    return free_port(socket.SOCK_DGRAM)


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory, customer_port: int) -> Iterator[HotlineStack]:
    work = tmp_path_factory.mktemp("acd-stack")
    rules = yaml.safe_load(DEFAULT_RULES.read_text())
    rules["dedicated"]["ring_seconds"] = 6
    rules["sticky"]["ring_seconds"] = 5
    # a position announcement holds the head caller for its ~6 s even when an agent frees meanwhile (app_queue
    # plays it while no agent is available): off where these tests time the order of service
    for queue in ("support", "key_accounts", "english"):
        rules["queues"][queue]["announce"]["frequency"] = 0
    # the wrap-up test: English callers' queue (Li Na's) holds its agents until the disposition
    rules["queues"]["english"]["wrapup"] = {"seconds": 60, "disposition": True}
    rules["callbacks"]["dial"] = f"PJSIP/carrier/sip:{{number}}@127.0.0.1:{customer_port}"
    path = work / "routing.yaml"
    path.write_text(yaml.safe_dump(rules))
    s = HotlineStack(work)
    s.env["HOTLINE_ACD_ROUTING"] = str(path)
    try:
        s.start()
        yield s
    finally:
        s.stop()


async def until(what: str, check: Any, timeout: float = 30) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if inspect.isawaitable(found):
            found = await found
        if found:
            return found
        await asyncio.sleep(0.2)
    raise AssertionError(f"not within {timeout} s: {what}")


def waiting(stack: HotlineStack, queue: str) -> int:
    m = re.search(rf"^{queue} has (\d+) call", stack.asterisk_cli(f"queue show {queue}"), re.M)
    return int(m.group(1)) if m else -1


async def state(api: Api, token: str) -> dict[str, Any]:
    r = await api.get("/api/agents/me", token)
    assert r.status_code == 200, r.text
    return dict(r.json())


async def connects(stack: HotlineStack, queue: str) -> list[Any]:
    return await fetch_all(
        stack, "SELECT callid, agent, time FROM queue_log WHERE queue = $1 AND event = 'CONNECT' ORDER BY id", queue
    )


def sipp(phones: Phones, scenario: str, args: str, port: int | None = None) -> SippProcess:
    return phones._sipp(scenario.split(".")[0], scenario, args.split(), trace=True, port=port)


async def test_a_vip_overtakes_waiting_regular_callers(
    stack: HotlineStack, phones: Phones, api: Api, agent_session: Login
) -> None:
    agent = phones.agent_phone("1005", SIP_PASSWORD("1005"), ring_ms=300, calls=2, timeout_s=60)
    token = await agent_session("1005")
    assert (await api.post("/api/agents/me/pause", token, {"reason": "break"})).status_code == 200
    first = phones.call("13311110001", digit="0", dtmf_at_ms=1000, hold_ms=16000)
    await asyncio.sleep(0.7)
    second = phones.call("13311110002", digit="0", dtmf_at_ms=1000, hold_ms=16000)
    await asyncio.sleep(0.7)
    vip = phones.call(VIP, digit="0", dtmf_at_ms=1000, hold_ms=7000)
    await until("three callers waiting", lambda: waiting(stack, "support") == 3)
    assert (await api.post("/api/agents/me/unpause", token)).status_code == 200
    assert await wait(vip.wait, 40) == 0, vip.output()
    assert await wait(first.wait, 40) == 0, first.output()
    second.stop()
    agent.stop()
    rows = {
        r["caller"]: r
        for r in await until(
            "the first two calls' rows",
            lambda: _rows(stack, [VIP, "13311110001"]),
        )
    }
    # the VIP came last and was served first; the regular caller who came first waited for them
    assert rows[VIP]["agent"] == "1005" and rows["13311110001"]["agent"] == "1005"
    assert rows[VIP]["answered_at"] < rows["13311110001"]["answered_at"]
    assert rows[VIP]["wait_seconds"] < rows["13311110001"]["wait_seconds"]
    decision = await fetch_row(stack, "SELECT * FROM routing_decisions WHERE call_id = $1", rows[VIP]["call_id"])
    assert (decision["tier"], decision["queue"], decision["priority"]) == ("vip", "support", 10)
    assert "green channel" in decision["reasons"]
    order = [c["callid"] for c in await connects(stack, "support")]
    assert order.index(rows[VIP]["call_id"]) < order.index(rows["13311110001"]["call_id"])


async def _rows(stack: HotlineStack, callers: list[str]) -> list[Any] | None:
    rows = await fetch_all(stack, "SELECT * FROM interactions WHERE caller = ANY($1::text[])", callers)
    return rows if len(rows) == len(callers) else None


async def test_the_dedicated_agent_rings_first_then_the_queue_and_ring_no_answer_pauses(
    stack: HotlineStack, phones: Phones, api: Api, agent_session: Login
) -> None:
    port = free_port(socket.SOCK_DGRAM)
    silent = sipp(phones, "agent_noanswer.xml", "-m 1 -timeout 60", port=port)
    await asyncio.sleep(0.3)  # listening before Asterisk learns where to send INVITEs
    phones.register("1001", SIP_PASSWORD("1001"), port)
    other = phones.agent_phone("1003", SIP_PASSWORD("1003"), ring_ms=500)
    dedicated = await agent_session("1001")
    await agent_session("1003")
    started = time.time()
    caller = phones.call(KEY_ACCOUNT, digit="0", dtmf_at_ms=1000, hold_ms=14000)
    assert await wait(caller.wait, 60) == 0, caller.output()
    assert await wait(silent.wait, 10) == 0, silent.output()
    assert await wait(other.wait, 10) == 0, other.output()
    row = await fetch_row(stack, "SELECT * FROM interactions WHERE caller = $1", KEY_ACCOUNT)
    assert row["agent"] == "1003" and row["outcome"] == "answered"
    decision = await fetch_row(stack, "SELECT * FROM routing_decisions WHERE call_id = $1", row["call_id"])
    assert (decision["queue"], decision["priority"]) == ("key_accounts", 20)
    assert (decision["preferred_agent"], decision["preferred_reason"]) == ("1001", "dedicated")
    events = await fetch_all(
        stack, "SELECT queue, agent, event, data1 FROM queue_log WHERE callid = $1 ORDER BY id", row["call_id"]
    )
    steps = [(e["queue"], e["agent"], e["event"]) for e in events if e["event"] in ("RINGNOANSWER", "CONNECT")]
    assert steps == [("direct-1001", NAMES["1001"], "RINGNOANSWER"), ("key_accounts", NAMES["1003"], "CONNECT")]
    assert 5000 <= int(next(e["data1"] for e in events if e["event"] == "RINGNOANSWER")) <= 8000  # 6 s configured
    # the agent who let it ring out is paused, with the reason, and the change is on record
    me = await state(api, dedicated)
    assert (me["state"], me["pause_reason"]) == ("paused", "no_answer")
    log = await fetch_all(
        stack,
        "SELECT l.state::text, l.reason FROM agent_state_log l JOIN agents a ON a.id = l.agent_id"
        " WHERE a.extension = '1001' AND l.at >= to_timestamp($1) ORDER BY l.id",
        started,
    )
    assert [(r["state"], r["reason"]) for r in log] == [("ringing", None), ("paused", "no_answer")]


async def test_wrap_up_blocks_new_calls_until_the_disposition(
    stack: HotlineStack, phones: Phones, api: Api, agent_session: Login
) -> None:
    agent = phones.agent_phone("1004", SIP_PASSWORD("1004"), ring_ms=300, calls=2, timeout_s=60)
    token = await agent_session("1004")
    first = phones.call(ENGLISH, digit="0", dtmf_at_ms=1000, hold_ms=4000)
    assert await wait(first.wait, 30) == 0, first.output()
    me = await until("wrap-up", lambda: _in_state(api, token, "wrap_up"))
    assert me["pause_reason"] == "wrap-up"
    second = phones.call(ENGLISH, digit="0", dtmf_at_ms=1000, hold_ms=14000)
    await until("the second caller waiting", lambda: waiting(stack, "english") == 1)
    await asyncio.sleep(4)  # the agent is free on the phone, but in wrap-up: nothing is offered
    assert len(agent.sent_at("SIP/2.0 200 OK", "application/sdp")) == 1
    assert (await state(api, token))["state"] == "wrap_up"
    disposed_at = time.time()
    r = await api.post("/api/agents/me/disposition", token, {"code": "complaint_logged", "note": "late parcel"})
    assert r.status_code == 200 and r.json()["state"] == "available", r.text
    assert await wait(second.wait, 40) == 0, second.output()
    answers = agent.sent_at("SIP/2.0 200 OK", "application/sdp")
    assert len(answers) == 2 and answers[1] > disposed_at
    first_row = await fetch_row(
        stack, "SELECT call_id FROM interactions WHERE caller = $1 ORDER BY started_at LIMIT 1", ENGLISH
    )
    disposition = await fetch_row(stack, "SELECT * FROM dispositions WHERE agent = '1004'")
    assert (disposition["call_id"], disposition["queue"], disposition["code"]) == (
        first_row["call_id"],
        "english",
        "complaint_logged",
    )


async def _in_state(api: Api, token: str, wanted: str) -> dict[str, Any] | None:
    me = await state(api, token)
    return me if me["state"] == wanted else None


async def test_a_callback_waits_at_its_place_and_calls_back_agent_first(
    stack: HotlineStack, phones: Phones, api: Api, agent_session: Login, customer_port: int
) -> None:
    customer = sipp(phones, "callee.xml", "-m 1 -timeout 60 -set ring 500 -set hold 3000", port=customer_port)
    agent = phones.agent_phone("1002", SIP_PASSWORD("1002"), ring_ms=300, calls=3, timeout_s=60)
    token = await agent_session("1002")
    await api.post("/api/agents/me/pause", token, {"reason": "break"})
    before = phones.call("13311110021", digit="0", dtmf_at_ms=1000, hold_ms=10000)
    await until("the first caller waiting", lambda: waiting(stack, "support") == 1)
    r = await api.post("/api/callbacks", token, {"number": "13311119999", "queue": "support", "reason": "queue_exit"})
    assert r.status_code == 201, r.text
    callback_id = r.json()["id"]
    await until("the callback waiting in the queue", lambda: waiting(stack, "support") == 2)
    after = phones.call("13311110022", digit="0", dtmf_at_ms=1000, hold_ms=16000)
    await until("the later caller waiting", lambda: waiting(stack, "support") == 3)
    await api.post("/api/agents/me/unpause", token)
    assert await wait(before.wait, 30) == 0, before.output()
    assert await wait(customer.wait, 40) == 0, customer.output()  # called back: rang, answered, talked
    assert await wait(after.wait, 40) == 0, after.output()
    row = await until(
        "the callback done",
        lambda: fetch_all(stack, "SELECT * FROM callbacks WHERE id = $1 AND state = 'done'", callback_id),
    )
    assert row[0]["agent"] == "1002"
    ids = {
        r["caller"]: r["call_id"]
        for r in await until("both rows", lambda: _rows(stack, ["13311110021", "13311110022"]))
    }
    order = [c["callid"] for c in await connects(stack, "support") if c["agent"] == NAMES["1002"]]
    placeholder = next(c for c in order if c.startswith(f"callback-{callback_id}-"))
    assert order.index(ids["13311110021"]) < order.index(placeholder) < order.index(ids["13311110022"])
    assert len(agent.sent_at("SIP/2.0 200 OK", "application/sdp")) == 3
    # the callback is a call like any other: its interaction (the agent's leg) and its recording
    done = await fetch_row(stack, "SELECT * FROM interactions WHERE call_id = $1", placeholder.removesuffix("-q"))
    assert done["agent"] == "1002" and done["outcome"] == "answered"
    assert await fetch_row(stack, "SELECT id FROM recordings WHERE call_id = $1", done["call_id"])
