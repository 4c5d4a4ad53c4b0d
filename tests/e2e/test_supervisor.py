"""The supervisor's floor and the desk's call controls on the real stack: listen, whisper and barge ring the
supervisor's own SIPp phone into an agent's call (what each phone hears is sniffed off the loopback), the
wallboard in Chromium follows a call as it queues and is answered, and a call put on hold, taken back and
transferred blind from the desk takes its pop to the next agent."""

from __future__ import annotations

import asyncio
import subprocess
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser, expect

from floor.demo import demo_phone_password
from tests.browser import chromium
from tests.e2e.conftest import SIP_PASSWORD, Api, Login, desk, fetch_all, fetch_row
from tests.e2e.harness import HotlineStack, Phones, SippProcess, free_port
from tests.e2e.rtp import RtpSniffer, tone_level

pytestmark = pytest.mark.e2e

SUPERVISOR = ("demo-supervisor", "demo-supervisor")
SUPERVISOR_PHONE = "1901"
SUPERVISOR_TONE = 1700.0  # Hz: what the supervisor "says" (the agent's phone sends 440 Hz, the caller speech)
AGENT_TONE = 440.0
PRESENT = 1500.0  # amplitude of a tone clearly there (the tones are sent at half scale, ~16000)
ABSENT = 500.0


def media_port(p: SippProcess) -> int:
    args = list(p.proc.args)  # type: ignore[arg-type]
    return int(args[args.index("-mp") + 1])


def supervisor_phone(phones: Phones, tmp_path: Path, calls: int, talk_ms: int) -> SippProcess:
    tone = tmp_path / "supervisor.alaw"
    subprocess.run(
        ["sox", "-n", "-r", "8000", "-c", "1", "-t", "al", str(tone), "synth", "30", "sine", "1700", "vol", "0.5"],
        check=True,
    )
    port = free_port()
    args = f"-m {calls} -timeout 120 -set ring 300 -set talk {talk_ms}"
    p = phones._sipp("supervisor", "phone_hangs_up.xml", args.split(), port=port, media={"phone.alaw": tone})
    time.sleep(0.3)
    phones.register(SUPERVISOR_PHONE, demo_phone_password(SUPERVISOR_PHONE), port)
    return p


async def wait_agent_state(api: Api, token: str, agent: str, state: str, timeout: float = 30) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        board = (await api.get("/api/floor", token)).json()
        row = next((a for a in board["agents"] if a["agent"] == agent), None)
        if row is not None and row["state"] == state:
            return board
        if time.monotonic() > deadline:
            raise AssertionError(f"agent {agent} not {state} within {timeout} s: {board}")
        await asyncio.sleep(0.2)


async def test_listen_whisper_and_barge_reach_the_right_ears(
    stack: HotlineStack, phones: Phones, api: Api, agent_session: Login, tmp_path: Path
) -> None:
    talk_ms = 3500
    spy = supervisor_phone(phones, tmp_path, calls=3, talk_ms=talk_ms)
    agent = phones.agent_phone("1007", SIP_PASSWORD("1007"), ring_ms=500)
    await agent_session("1007")
    sup = await api.token(*SUPERVISOR)
    caller = phones.call("13911112222", digit="0", dtmf_at_ms=2000, hold_ms=40000)
    await wait_agent_state(api, sup, "1007", "on_call")
    ports = {"caller": media_port(caller), "agent": media_port(agent), "supervisor": media_port(spy)}
    heard: dict[str, dict[str, float]] = {}
    with RtpSniffer(set(ports.values())) as rtp:
        for mode in ("listen", "whisper", "barge"):
            asked = time.time()
            r = await api.post("/api/floor/agents/1007/supervise", sup, {"mode": mode})
            assert r.status_code == 202, r.text
            deadline = time.monotonic() + 15
            while rtp.count(ports["supervisor"], since=asked) < 25:  # the phone answered and hears the call
                assert time.monotonic() < deadline, f"{mode}: no audio reached the supervisor's phone"
                await asyncio.sleep(0.1)
            start = time.time() + 0.5
            await asyncio.sleep(2.7)
            end = start + 2.0
            heard[mode] = {
                "supervisor_packets": rtp.count(ports["supervisor"], start, end),
                "supervisor_hears_agent": tone_level(rtp.samples(ports["supervisor"], start, end), AGENT_TONE),
                "agent_hears_supervisor": tone_level(rtp.samples(ports["agent"], start, end), SUPERVISOR_TONE),
                "caller_hears_supervisor": tone_level(rtp.samples(ports["caller"], start, end), SUPERVISOR_TONE),
                "caller_hears_agent": tone_level(rtp.samples(ports["caller"], start, end), AGENT_TONE),
            }
            await asyncio.sleep(talk_ms / 1000 - 2.4)  # the supervisor's phone hangs up
            await asyncio.sleep(1.0)
    assert await asyncio.to_thread(spy.wait, 20) == 0, spy.output()
    for mode, h in heard.items():
        assert h["supervisor_packets"] >= 80, (mode, h)  # 2 s of 20 ms packets, give or take
        assert h["supervisor_hears_agent"] > PRESENT, (mode, h)
        assert h["caller_hears_agent"] > PRESENT, (mode, h)  # the call itself goes on
    assert heard["listen"]["agent_hears_supervisor"] < ABSENT, heard
    assert heard["listen"]["caller_hears_supervisor"] < ABSENT, heard
    assert heard["whisper"]["agent_hears_supervisor"] > PRESENT, heard
    assert heard["whisper"]["caller_hears_supervisor"] < ABSENT, heard  # only the agent hears a whisper
    assert heard["barge"]["agent_hears_supervisor"] > PRESENT, heard
    assert heard["barge"]["caller_hears_supervisor"] > PRESENT, heard

    admin = await api.token("demo-admin", "demo-admin")
    log = (await api.get("/api/floor/supervision-log", admin)).json()
    mine = [(e["supervisor"], e["agent"], e["action"], e["phone"], e["result"]) for e in log if e["agent"] == "1007"]
    assert sorted(mine[:3]) == sorted(  # who listened to whom, and that their phone answered
        ("demo-supervisor", "1007", m, SUPERVISOR_PHONE, "answered") for m in ("listen", "whisper", "barge")
    )
    caller.stop()
    agent.stop()


@pytest.fixture(scope="module")
async def browser() -> AsyncIterator[Browser]:
    async with chromium() as b:
        yield b


async def test_the_wallboard_follows_a_call_live(
    browser: Browser, stack: HotlineStack, phones: Phones, api: Api, agent_session: Login, tmp_path: Path
) -> None:
    context = await browser.new_context()
    page = await context.new_page()
    try:
        await page.goto(stack.url + "/wallboard")
        await page.fill("#username", SUPERVISOR[0])
        await page.fill("#password", SUPERVISOR[1])
        await page.click("button[type=submit]")
        await expect(page.locator("#link")).to_have_text("online")
        await expect(page.locator("#scope")).to_have_text("queues: support")
        support = page.locator('#queues tr[data-queue="support"]')
        answered_before = int((await support.locator("td.answered").inner_text()).split(" / ")[0])

        agent = phones.agent_phone("1008", SIP_PASSWORD("1008"), ring_ms=3000)
        await agent_session("1008")
        row = page.locator('#agents tr[data-agent="1008"]')
        await expect(row).to_have_attribute("data-state", "available", timeout=10000)
        caller = phones.call("13922223333", digit="0", dtmf_at_ms=2000, hold_ms=12000)
        # queued, then ringing at 1008 for 3 s: the board shows the caller waiting and the agent ringing
        await expect(support.locator("td.waiting")).to_have_text("1", timeout=20000)
        await expect(row).to_have_attribute("data-state", "ringing", timeout=5000)
        await expect(row).to_have_attribute("data-state", "on_call", timeout=15000)
        await expect(support.locator("td.waiting")).to_have_text("0")
        await expect(support.locator("td.answered")).to_contain_text(f"{answered_before + 1} / ")
        await expect(row.locator("button[data-action=listen]")).to_be_enabled()
        assert await asyncio.to_thread(caller.wait, 60) == 0, caller.output()
        await expect(row).to_have_attribute("data-state", "available", timeout=10000)
        await expect(row.locator("td.handled")).not_to_have_text("0")
        assert await asyncio.to_thread(agent.wait, 30) == 0, agent.output()
        await row.locator("button[data-action=pause]").click()  # a forced pause from the board
        await expect(row).to_have_attribute("data-state", "paused", timeout=10000)
        await expect(row.locator("td.state")).to_have_text("paused (supervisor)")
    finally:
        await page.screenshot(path=str(tmp_path / "wallboard.png"), full_page=True)
        await context.close()


async def test_hold_and_a_blind_transfer_from_the_desk_page_take_the_pop_to_the_next_agent(
    browser: Browser, stack: HotlineStack, phones: Phones, api: Api, agent_session: Login, tmp_path: Path
) -> None:
    first = phones.agent_phone("1009", SIP_PASSWORD("1009"), ring_ms=500)
    second = phones.agent_phone("1010", SIP_PASSWORD("1010"), ring_ms=1500)  # registered, not in the queue
    token_a = await agent_session("1009")
    token_b = await api.token("1010")
    context = await browser.new_context()
    page = await context.new_page()
    try:
        await page.goto(stack.url + "/agent")
        await page.fill("#extension", "1009")
        await page.fill("#password", "agent1009")
        await page.click("button[type=submit]")
        await expect(page.locator("#link")).to_have_text("online")
        caller = phones.call("13700137000", digit="0", dtmf_at_ms=2000, hold_ms=22000)
        async with desk(stack, token_b) as desk_b:
            status = page.locator("#pop-status")
            await expect(status).to_have_text("talking", timeout=30000)
            call_id = await page.locator("#pop").get_attribute("data-call")
            with RtpSniffer({media_port(caller)}) as rtp:
                await page.click("#btn-hold")
                await expect(status).to_have_text("on hold", timeout=5000)
                assert (await api.get("/api/calls/me", token_a)).json()["held"] is True
                await asyncio.sleep(2.5)
                on_hold = rtp.samples(media_port(caller), time.time() - 1.5, time.time())
                await page.click("#btn-resume")
                await expect(status).to_have_text("talking", timeout=5000)
                await asyncio.sleep(2.5)
                back = rtp.samples(media_port(caller), time.time() - 1.5, time.time())
            assert tone_level(on_hold, AGENT_TONE) < ABSENT  # on hold the caller does not hear the agent
            assert tone_level(back, AGENT_TONE) > PRESENT, len(back)  # and hears them again once taken back
            await page.select_option("#xfer-mode", "blind")
            await page.select_option("#xfer-kind", "agent")
            await page.fill("#xfer-target", "1010")
            await page.click("#btn-transfer")
            await expect(status).to_have_text("transferred", timeout=5000)
            # the card follows the call to 1010's desk while 1010's phone rings, then 1010 is on it
            _, pop_b = await desk_b.wait_for("screen_pop", 10)
            assert pop_b["call_id"] == call_id and pop_b["customer"]["name"] == "Chen Gang"
            _, answered_b = await desk_b.wait_for("call_answered", 10)
            assert answered_b["call_id"] == call_id
            assert (await api.get("/api/calls/me", token_b)).json()["call_id"] == call_id
            assert (await api.get("/api/calls/me", token_a)).status_code == 404  # 1009 is out of it
            assert await asyncio.to_thread(first.wait, 15) == 0, first.output()
            assert await asyncio.to_thread(caller.wait, 60) == 0, caller.output()
            await desk_b.wait_for("call_ended", 15)
            await expect(status).to_have_text("ended", timeout=5000)
    finally:
        await page.screenshot(path=str(tmp_path / "desk.png"), full_page=True)
        await context.close()
    assert await asyncio.to_thread(second.wait, 15) == 0, second.output()
    row = await fetch_row(stack, "SELECT agent, outcome FROM interactions WHERE call_id = $1", call_id)
    assert (row["agent"], row["outcome"]) == ("1009", "answered")
    legs = await fetch_all(
        stack, "SELECT role, agent FROM call_legs WHERE call_id = $1 AND answered_at IS NOT NULL", call_id
    )
    assert {(leg["role"], leg["agent"]) for leg in legs} >= {("agent", "1009"), ("transfer", "1010")}


async def test_an_attended_transfer_consults_then_leaves_the_caller_with_the_next_agent(
    stack: HotlineStack, phones: Phones, api: Api, agent_session: Login
) -> None:
    first = phones.agent_phone("1009", SIP_PASSWORD("1009"), ring_ms=500)
    second = phones.agent_phone("1010", SIP_PASSWORD("1010"), ring_ms=1000)  # registered, not in the queue
    token_a = await agent_session("1009")
    token_b = await api.token("1010")
    caller = phones.call("13900139000", digit="0", dtmf_at_ms=2000, hold_ms=20000)
    async with desk(stack, token_a) as desk_a, desk(stack, token_b) as desk_b:
        _, pop = await desk_a.wait_for("screen_pop", 30)
        await desk_a.wait_for("call_answered", 15)
        call_id = pop["call_id"]
        r = await api.post("/api/calls/me/transfer", token_a, {"mode": "attended", "kind": "agent", "target": "1010"})
        assert r.status_code == 200, r.text
        _, pop_b = await desk_b.wait_for("screen_pop", 10)  # the card reaches 1010 while consulted
        assert pop_b["call_id"] == call_id and pop_b["customer"]["name"] == "Li Na"
        await desk_b.wait_for("call_answered", 10)
        assert (await api.get("/api/calls/me", token_a)).json()["consulting"] is True
        done = await api.post("/api/calls/me/transfer/complete", token_a)
        assert done.status_code == 200, done.text
        assert await asyncio.to_thread(first.wait, 15) == 0, first.output()  # 1009 is out
        assert (await api.get("/api/calls/me", token_b)).json()["call_id"] == call_id
        assert await asyncio.to_thread(caller.wait, 60) == 0, caller.output()  # the caller stayed to the end
        await desk_b.wait_for("call_ended", 15)
    assert await asyncio.to_thread(second.wait, 15) == 0, second.output()
    row = await fetch_row(stack, "SELECT agent, outcome FROM interactions WHERE call_id = $1", call_id)
    assert (row["agent"], row["outcome"]) == ("1009", "answered")
