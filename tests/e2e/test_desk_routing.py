"""The desk and the ACD on the real stack (Asterisk, app_queue, the controller) with SIPp phones and Chromium:
a work order opened from the pop while the agent's phone rings; click-to-dial from the callback list (the
agent's phone, then the customer's); the sticky agent; a skill queue's overflow to the wider pool; a blind
transfer to an outside number; the controller killed mid-call, its agent states rebuilt from Asterisk.

The module runs its own stack (a routing file with short rings and overflow, the outside line — callbacks and
transfers to a number — on a SIPp phone of its own); its tests share it, the controller kill last.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import time
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml
from playwright.async_api import Browser, Page, expect

from acd.rules import DEFAULT_RULES
from tests.browser import chromium
from tests.e2e.conftest import SIP_PASSWORD, Api, Login, desk, fetch_all, fetch_row, wait
from tests.e2e.harness import HotlineStack, Phones, free_port
from tests.e2e.test_acd_routing import sipp, state, until, waiting

pytestmark = pytest.mark.e2e

WALK_IN = "13600136000"  # Wang Xiu, walk-in (demo data)
VIP = "13800138000"  # Zhang Wei, VIP: the support queue, sticky
ENGLISH = "13900139000"  # Li Na: the english queue (skill en)
OVERFLOW_AFTER = 8  # seconds before the english queue widens to agents without the skill


@pytest.fixture(scope="module")
def outside_port() -> int:
    return free_port(socket.SOCK_DGRAM)


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory, outside_port: int) -> Iterator[HotlineStack]:
    work = tmp_path_factory.mktemp("desk-stack")
    rules = yaml.safe_load(DEFAULT_RULES.read_text())
    rules["sticky"]["ring_seconds"] = 5
    rules["queues"]["english"]["overflow"] = [{"after": OVERFLOW_AFTER, "max_penalty": 9}]
    for queue in ("support", "english"):
        rules["queues"][queue]["announce"]["frequency"] = 0
    rules["callbacks"]["dial"] = f"PJSIP/carrier/sip:{{number}}@127.0.0.1:{outside_port}"
    path = work / "routing.yaml"
    path.write_text(yaml.safe_dump(rules))
    s = HotlineStack(work)
    s.env["HOTLINE_ACD_ROUTING"] = str(path)
    try:
        s.start()
        yield s
    finally:
        s.stop()


@pytest.fixture(scope="module")
async def browser() -> AsyncIterator[Browser]:
    async with chromium() as b:
        yield b


@pytest.fixture
async def page(browser: Browser, tmp_path: Path) -> AsyncIterator[Page]:
    context = await browser.new_context()
    pg = await context.new_page()
    try:
        yield pg
    finally:
        await pg.screenshot(path=str(tmp_path / "desk.png"), full_page=True)
        await context.close()


async def desk_page(page: Page, stack: HotlineStack, extension: str) -> None:
    """Signed in at the desk, available in the queues."""
    await page.goto(stack.url + "/agent")
    await page.fill("#extension", extension)
    await page.fill("#password", f"agent{extension}")
    await page.click("#login-form button[type=submit]")
    await expect(page.locator("#link")).to_have_text("online")
    await page.click("#btn-available")
    await expect(page.locator("#state")).to_have_attribute("data-state", "available")


async def test_a_work_order_is_opened_from_the_pop_while_the_phone_rings(
    page: Page, stack: HotlineStack, phones: Phones, api: Api
) -> None:
    agent = phones.agent_phone("1005", SIP_PASSWORD("1005"), ring_ms=6000)
    try:
        await desk_page(page, stack, "1005")
        caller = phones.call(WALK_IN, digit="0", dtmf_at_ms=1000, hold_ms=10000)
        await expect(page.locator("#pop-name")).to_have_text("Wang Xiu", timeout=20000)
        await expect(page.locator("#pop-status")).to_have_text("ringing")
        call_id = await page.locator("#pop").get_attribute("data-call")
        await page.click("#btn-wo-new")
        await page.select_option("#wo-type", "inquiry")
        await page.fill("#wo-subject", "which station takes my parcel")
        await page.click("#btn-wo-open")
        await expect(page.locator("#wo-result")).to_contain_text("this call linked")
        order_id = int(await page.locator("#wo-result").get_attribute("data-order") or 0)
        await expect(page.locator(f'#pop-orders li[data-order="{order_id}"]')).to_contain_text("which station")
        await expect(page.locator("#pop-status")).to_have_text("talking", timeout=15000)
        assert await wait(caller.wait, 60) == 0, caller.output()
        assert await wait(agent.wait, 30) == 0, agent.output()
    finally:
        await page.click("#btn-logout")
        await expect(page.locator("#state")).to_have_attribute("data-state", "logged_out")
    order = await fetch_row(stack, "SELECT * FROM work_orders WHERE id = $1", order_id)
    wang = await fetch_row(stack, "SELECT id FROM customers WHERE phone = $1", "+86" + WALK_IN)
    assert (order["customer_id"], order["first_call_id"], order["opened_by"]) == (wang["id"], call_id, "1005")
    (answered_at,) = agent.sent_at("SIP/2.0 200 OK", "application/sdp")
    assert order["opened_at"].timestamp() < answered_at  # opened while the phone still rang
    row = await fetch_row(stack, "SELECT agent, outcome FROM interactions WHERE call_id = $1", call_id)
    assert (row["agent"], row["outcome"]) == ("1005", "answered")
    links = await fetch_all(stack, "SELECT call_id FROM work_order_calls WHERE work_order_id = $1", order_id)
    assert [r["call_id"] for r in links] == [call_id]


async def test_click_to_dial_rings_the_agent_then_the_customer(
    page: Page, stack: HotlineStack, phones: Phones, api: Api, outside_port: int
) -> None:
    customer = sipp(phones, "callee.xml", "-m 1 -timeout 60 -set ring 500 -set hold 3000", port=outside_port)
    agent = phones.agent_phone("1006", SIP_PASSWORD("1006"), ring_ms=1000)
    token = await api.token("1006")
    later = (datetime.now(UTC) + timedelta(hours=1)).isoformat()  # not due: it waits on the list, not in the queue
    r = await api.post(
        "/api/callbacks",
        token,
        {"number": "13311119999", "queue": "support", "reason": "queue_exit", "not_before": later},
    )
    assert r.status_code == 201, r.text
    callback_id = r.json()["id"]
    try:
        await desk_page(page, stack, "1006")
        row = page.locator(f'#callbacks tr[data-callback="{callback_id}"]')
        await expect(row.locator("td.state")).to_have_text("pending")
        clicked = time.time()
        await row.locator("button.dial").click()
        await expect(page.locator("#callback-result")).to_contain_text("Calling back 13311119999")
        await expect(page.locator("#state")).to_have_attribute("data-state", "paused")  # reserved for it
        assert await wait(customer.wait, 40) == 0, customer.output()
        assert await wait(agent.wait, 20) == 0, agent.output()
        await expect(page.locator("#state")).to_have_attribute("data-state", "available", timeout=10000)
    finally:
        await page.click("#btn-logout")
    (agent_answered,) = agent.sent_at("SIP/2.0 200 OK", "application/sdp")
    (customer_rang,) = customer.sent_at("SIP/2.0 180")
    assert clicked < agent_answered < customer_rang  # agent first, then the customer
    done = await until(
        "the callback done",
        lambda: fetch_all(stack, "SELECT agent FROM callbacks WHERE id = $1 AND state = 'done'", callback_id),
    )
    assert done[0]["agent"] == "1006"


async def test_the_agent_who_served_the_caller_last_rings_first(
    stack: HotlineStack, phones: Phones, api: Api, agent_session: Login
) -> None:
    phone = phones.shared_agent_phone(
        {"1002": SIP_PASSWORD("1002"), "1003": SIP_PASSWORD("1003")}, ring_ms=500, calls=2, timeout_s=90
    )
    await agent_session("1002")
    first = phones.call(VIP, digit="0", dtmf_at_ms=1000, hold_ms=3000)
    assert await wait(first.wait, 40) == 0, first.output()
    await agent_session("1003")  # now free too, and free for longer than 1002
    second = phones.call(VIP, digit="0", dtmf_at_ms=1000, hold_ms=3000)
    assert await wait(second.wait, 40) == 0, second.output()
    assert await wait(phone.wait, 20) == 0, phone.output()
    rows = await until("both calls' rows", lambda: _calls_of(stack, VIP, 2))
    assert [r["agent"] for r in rows] == ["1002", "1002"]
    decision = await fetch_row(stack, "SELECT * FROM routing_decisions WHERE call_id = $1", rows[1]["call_id"])
    assert (decision["preferred_agent"], decision["preferred_reason"]) == ("1002", "sticky")
    assert "served them last" in decision["reasons"]
    connected = await fetch_all(
        stack, "SELECT queue FROM queue_log WHERE callid = $1 AND event = 'CONNECT'", rows[1]["call_id"]
    )
    assert [c["queue"] for c in connected] == ["direct-1002"]  # rung alone first, before the queue


async def _calls_of(stack: HotlineStack, caller: str, count: int) -> list[object] | None:
    rows = await fetch_all(stack, "SELECT * FROM interactions WHERE caller = $1 ORDER BY started_at", caller)
    return rows if len(rows) >= count else None


async def test_a_skill_queue_overflows_to_the_wider_pool_after_its_wait(
    stack: HotlineStack, phones: Phones, api: Api, agent_session: Login
) -> None:
    phone = phones.shared_agent_phone(
        {"1005": SIP_PASSWORD("1005"), "1004": SIP_PASSWORD("1004")}, ring_ms=300, calls=1, timeout_s=90
    )
    skilled = await agent_session("1005")  # speaks English, but on a break: logged in, so no widening at once
    assert (await api.post("/api/agents/me/pause", skilled, {"reason": "break"})).status_code == 200
    await agent_session("1004")  # complaints only: in the english queue as an outsider
    # the caller waits past the overflow time, then talks: hangs up 16 s after keying 0
    caller = phones.call(ENGLISH, digit="0", dtmf_at_ms=1000, hold_ms=16000)
    await until("the caller waiting in english", lambda: waiting(stack, "english") == 1)
    assert await wait(caller.wait, 60) == 0, caller.output()
    assert await wait(phone.wait, 20) == 0, phone.output()
    (row,) = await until("the call's row", lambda: _calls_of(stack, ENGLISH, 1))
    assert (row["agent"], row["queue"]) == ("1004", "english")
    assert row["wait_seconds"] >= OVERFLOW_AFTER - 1, row["wait_seconds"]  # only once the pool widened
    decision = await fetch_row(stack, "SELECT * FROM routing_decisions WHERE call_id = $1", row["call_id"])
    assert decision["max_penalty"] == 4 and f"9 after {OVERFLOW_AFTER} s" in decision["reasons"]
    assert "at once" not in decision["reasons"]


async def test_a_blind_transfer_to_an_outside_number_leaves_the_caller_with_it(
    stack: HotlineStack, phones: Phones, api: Api, agent_session: Login, outside_port: int
) -> None:
    outside = sipp(phones, "callee.xml", "-m 1 -timeout 60 -set ring 500 -set hold 3000", port=outside_port)
    agent = phones.agent_phone("1007", SIP_PASSWORD("1007"), ring_ms=300)
    token = await agent_session("1007")
    caller = phones.call("13311115555", digit="0", dtmf_at_ms=1000, hold_ms=30000, trace=True)
    async with desk(stack, token) as d:
        _, pop = await d.wait_for("screen_pop", 30)
        await d.wait_for("call_answered", 15)
        r = await api.post(
            "/api/calls/me/transfer", token, {"mode": "blind", "kind": "number", "target": "13311118888"}
        )
        assert r.status_code == 200, r.text
        assert await wait(agent.wait, 15) == 0, agent.output()  # the agent's leg ended
        assert await wait(outside.wait, 30) == 0, outside.output()  # rang, answered, talked, hung up
    assert await wait(caller.wait, 30) == 0, caller.output()
    assert caller.sent_at("BYE") == []  # the caller stayed until the outside party hung up
    invite = outside.trace.read_text(errors="replace") if outside.trace else ""
    assert "INVITE sip:13311118888@" in invite
    row = await fetch_row(stack, "SELECT agent, outcome FROM interactions WHERE call_id = $1", pop["call_id"])
    assert (row["agent"], row["outcome"]) == ("1007", "answered")


async def test_a_controller_killed_mid_call_comes_back_with_the_agent_on_the_call(
    stack: HotlineStack, phones: Phones, api: Api, agent_session: Login
) -> None:
    agent = phones.agent_phone("1008", SIP_PASSWORD("1008"), ring_ms=300)
    token = await agent_session("1008")
    caller = phones.call("13311116666", digit="0", dtmf_at_ms=1000, hold_ms=16000, trace=True)
    async with desk(stack, token) as d:
        _, pop = await d.wait_for("screen_pop", 30)
        await d.wait_for("call_answered", 15)
    assert (await state(api, token))["state"] == "on_call"
    old = int((stack.var / "controller.pid").read_text())
    os.kill(old, signal.SIGKILL)
    await until(
        "a new controller, ready",
        lambda: (h := stack.health()) and h["ok"] and int((stack.var / "controller.pid").read_text()) != old,
    )
    assert caller.proc.poll() is None, "the call ended with the controller"
    me = await state(api, await api.token("1008"))  # rebuilt from Asterisk's queue status, mid-call
    assert me["state"] == "on_call", me
    assert await wait(caller.wait, 40) == 0, caller.output()
    assert await wait(agent.wait, 20) == 0, agent.output()
    assert caller.sent_at("BYE"), "Asterisk hung up on the caller: the call was dropped"
    await until("the agent free again", lambda: _in_state(api, token, "available"))
    await fetch_row(stack, "SELECT id FROM interactions WHERE call_id = $1", pop["call_id"], timeout=30)
    await asyncio.sleep(2)  # a second write would come with the same hang-up
    rows = await fetch_all(stack, "SELECT agent, outcome FROM interactions WHERE call_id = $1", pop["call_id"])
    assert [(r["agent"], r["outcome"]) for r in rows] == [("1008", "answered")]  # stored once


async def _in_state(api: Api, token: str, wanted: str) -> bool:
    return bool((await state(api, token))["state"] == wanted)
