"""The IVR admin page in a real browser (Debian's Chromium driven by Playwright) over the real app and
database: the menu drawn as a tree from the role-checked graph route, and the reload button for admins."""

from __future__ import annotations

import asyncio
import shutil
import socket
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import uvicorn
from playwright.async_api import Page, async_playwright, expect

from hotline.db import Database
from ivr.menu import load_menu
from tests.integration.appkit import app_kit
from tests.integration.waiting import until

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic"]  # fmt: skip


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
async def site(db: Database, pg_url: str, tmp_path: Path) -> AsyncIterator[str]:
    async with app_kit(pg_url, tmp_path) as kit:
        port = _free_port()
        server = uvicorn.Server(uvicorn.Config(kit.app, host="127.0.0.1", port=port, log_level="warning"))
        task = asyncio.create_task(server.serve())
        await until(lambda: server.started or task.done(), timeout=10)
        assert server.started, "uvicorn did not start"
        try:
            yield f"http://127.0.0.1:{port}"
        finally:
            server.should_exit = True
            await asyncio.wait_for(task, 10)


@pytest.fixture
async def page(tmp_path: Path) -> AsyncIterator[Page]:
    executable = shutil.which("chromium") or "/usr/bin/chromium"
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS, headless=True)
        try:
            pg = await (await browser.new_context()).new_page()
            yield pg
            await pg.screenshot(path=str(tmp_path / "ivr.png"), full_page=True)
        finally:
            await browser.close()


async def sign_in(page: Page, site: str, username: str, password: str) -> None:
    await page.goto(site + "/ivr")
    await page.fill("#username", username)
    await page.fill("#password", password)
    await page.click("#login-form button[type=submit]")


async def test_the_menu_is_drawn_as_a_tree_for_a_supervisor(site: str, page: Page) -> None:
    menu = load_menu()
    await sign_in(page, site, "demo-supervisor", "demo-supervisor")
    await expect(page.locator("#menu-version")).to_have_text(menu.version)
    await expect(page.locator("#reload")).to_be_hidden()  # reloading is the admins'
    # every node is drawn exactly once; the main menu's options lead to their branches
    await expect(page.locator("[data-node]")).to_have_count(len(menu.nodes))
    main = page.locator("li", has=page.locator("#node-main")).last
    await expect(main.locator(":scope > ul > li > .edge")).to_contain_text(
        ["option 1 →", "option 2 →", "option 3 →", "option 4 →", "option 0 →", "option 9 →"]
    )
    await expect(page.locator("#node-track_waybill")).to_contain_text("collect")
    await expect(page.locator("#node-complaint_agent")).to_contain_text("queue complaints")
    await expect(page.locator("#node-greeting")).to_contain_text("Welcome to the express delivery hotline.")


async def test_an_admin_reloads_the_file(site: str, page: Page) -> None:
    await sign_in(page, site, "demo-admin", "demo-admin")
    await expect(page.locator("#reload")).to_be_visible()
    await page.click("#reload")
    await expect(page.locator("#reload-result")).to_have_text("unchanged")
    await expect(page.locator("#menu-error")).to_have_text("")


async def test_an_agent_is_refused(site: str, page: Page) -> None:
    await sign_in(page, site, "1001", "agent1001")
    await expect(page.locator("#login-error")).not_to_have_text("")
    await expect(page.locator("#menu")).to_be_hidden()
