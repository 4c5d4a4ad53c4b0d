"""The work-order page in a real browser (Debian's Chromium, driven by Playwright) over the real app and
database: sign in, the queue by department with coloured SLA clocks, open an order, change its state, see
the change in its history."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Page, expect

from hotline.db import Database
from tests.browser import chromium, served
from tests.integration.appkit import app_kit


@pytest.fixture
async def base_url(db: Database, pg_url: str, tmp_path: Path) -> AsyncIterator[str]:
    async with app_kit(pg_url, tmp_path) as kit, served(kit.app) as url:
        yield url


@pytest.fixture
async def page(base_url: str, tmp_path: Path) -> AsyncIterator[Page]:
    async with chromium() as browser:
        pg = await browser.new_page()
        yield pg
        await pg.screenshot(path=str(tmp_path / "workorders.png"), full_page=True)


async def test_queue_sla_colours_state_change_and_history(page: Page, base_url: str) -> None:
    await page.goto(base_url + "/workorders")
    await page.fill("#username", "demo-supervisor")
    await page.fill("#password", "demo-supervisor")
    await page.click("#login-form button[type=submit]")

    rows = page.locator("#queue tr.order")
    await expect(rows).to_have_count(6)  # the demo's seven, less the resolved one
    await expect(page.locator("#page-info")).to_contain_text("6 work orders")
    breached = rows.filter(has_text="courier never came")
    await expect(breached.locator(".sla")).to_have_attribute("data-state", "breached")
    await expect(breached.locator(".sla")).to_contain_text("overdue")
    await expect(breached.locator(".level")).to_contain_text("department head")
    await expect(rows.filter(has_text="Customs duty").locator(".sla")).to_have_attribute("data-state", "near")
    await expect(rows.filter(has_text="Beijing hub").locator(".sla")).to_have_attribute("data-state", "ok")
    await expect(rows.filter(has_text="rude").locator(".sla")).to_contain_text("(paused)")

    await page.select_option("#f-department", "key_accounts")  # the queue by department
    await page.click("#filters button[type=submit]")
    await expect(rows).to_have_count(1)
    await expect(rows.first).to_contain_text("lost between Shenzhen and Wuhan")
    await page.select_option("#f-department", "")
    await page.click("#filters button[type=submit]")
    await expect(rows).to_have_count(6)

    await rows.filter(has_text="Beijing hub").click()
    await expect(page.locator("#detail")).to_have_attribute("data-status", "open")
    await expect(page.locator("#d-subject")).to_have_text("Parcel stuck at Beijing hub for 3 days")
    await page.select_option("#c-status", "in_progress")
    await page.fill("#c-notes", "hub called, parcel on today's truck")
    await page.click("#change button[type=submit]")
    await expect(page.locator("#detail")).to_have_attribute("data-status", "in_progress")
    history = page.locator("#history tbody tr")
    await expect(history.last).to_contain_text("status open → in_progress")
    await expect(history.last).to_contain_text("demo-supervisor")
    await expect(history.nth(-2)).to_contain_text("hub called")
    await expect(rows.filter(has_text="Beijing hub")).to_have_attribute("data-status", "in_progress")

    await page.select_option("#c-status", "waiting_customer")
    await page.click("#change button[type=submit]")
    await expect(page.locator("#d-sla")).to_contain_text("(paused)")
    await page.select_option("#c-status", "resolved")
    await page.click("#change button[type=submit]")
    await page.select_option("#c-status", "closed")
    await page.click("#change button[type=submit]")
    await expect(page.locator("#detail")).to_have_attribute("data-status", "closed")
    assert await page.locator("#c-status option").all_inner_texts() == ["(unchanged)", "open"]  # reopen only
    await expect(rows).to_have_count(5)
