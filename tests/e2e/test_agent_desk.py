"""The agent desk in a real browser (Debian's Chromium, driven by Playwright) with a real call."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, expect

from tests.browser import chromium
from tests.e2e.conftest import SIP_PASSWORD, Api
from tests.e2e.harness import HotlineStack, Phones

pytestmark = pytest.mark.e2e


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


async def sign_in(page: Page, stack: HotlineStack, extension: str, password: str) -> None:
    await page.goto(stack.url + "/agent")
    await page.fill("#extension", extension)
    await page.fill("#password", password)
    await page.click("button[type=submit]")


async def test_wrong_password_is_refused_clearly(page: Page, stack: HotlineStack) -> None:
    await sign_in(page, stack, "1005", "not-the-password")
    await expect(page.locator("#login-error")).to_have_text("wrong username or password")
    await expect(page.locator("#desk")).to_be_hidden()


async def test_desk_states_and_pop_during_a_real_call(
    page: Page, stack: HotlineStack, phones: Phones, api: Api
) -> None:
    await sign_in(page, stack, "1005", "agent1005")
    await expect(page.locator("#link")).to_have_text("online")
    await expect(page.locator("#state")).to_have_attribute("data-state", "logged_out")

    agent = phones.agent_phone("1005", SIP_PASSWORD("1005"), ring_ms=4000)
    try:
        await page.click("#btn-available")
        await expect(page.locator("#state")).to_have_attribute("data-state", "available")
        await page.select_option("#reason", "lunch")
        await page.click("#btn-pause")
        await expect(page.locator("#state")).to_have_attribute("data-state", "paused")
        await expect(page.locator("#pause-reason")).to_have_text("(lunch)")
        token = await api.token("1005")
        me = (await api.get("/api/agents/me", token)).json()
        assert me["state"] == "paused" and me["pause_reason"] == "lunch" and me["desk_connected"] is True
        await page.click("#btn-unpause")
        await expect(page.locator("#state")).to_have_attribute("data-state", "available")

        caller = phones.call("13700137000", digit="0", dtmf_at_ms=2000, hold_ms=9000)
        # while the agent's phone rings (4 s), the desk already shows the key-account customer
        await expect(page.locator("#pop-name")).to_have_text("Chen Gang", timeout=20000)
        await expect(page.locator("#pop-tier")).to_have_text("key account")
        await expect(page.locator("#pop-status")).to_have_text("ringing")
        await expect(page.locator("#pop-status")).to_have_text("talking", timeout=10000)
        assert await asyncio.to_thread(caller.wait, 60) == 0, caller.output()
        assert await asyncio.to_thread(agent.wait, 30) == 0, agent.output()
        await expect(page.locator("#pop-status")).to_have_text("ended", timeout=5000)
    finally:
        await page.click("#btn-logout")
        await expect(page.locator("#state")).to_have_attribute("data-state", "logged_out")
