"""The customers back-office page in a real browser (Debian's Chromium driven by Playwright), served by
the real app over the real test database with uvicorn on a free 127.0.0.1 port."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from playwright.async_api import Page, expect

from crm_bridge.book import CustomerBook
from crm_bridge.schemas import CustomerCreate
from hotline.db import Database
from tests.browser import chromium, served
from tests.integration.appkit import app_kit


@pytest.fixture
async def site(db: Database, pg_url: str, tmp_path: Path) -> AsyncIterator[str]:
    async with app_kit(pg_url, tmp_path) as kit:
        book = CustomerBook(kit.controller.db, lambda: datetime.now(UTC))
        for i in range(25):  # 29 customers with the demo's four: two pages of twenty
            await book.create(CustomerCreate(name=f"Page Customer {i:02d}", phones=[f"135001350{i:02d}"]), by="x")
        async with served(kit.app) as url:
            yield url


@pytest.fixture
async def page(tmp_path: Path) -> AsyncIterator[Page]:
    async with chromium() as browser:
        pg = await (await browser.new_context()).new_page()
        yield pg
        await pg.screenshot(path=str(tmp_path / "customers.png"), full_page=True)


async def test_search_page_and_open_a_customer_with_its_grade_history(site: str, page: Page) -> None:
    await page.goto(site + "/customers")
    await page.fill("#username", "1001")  # agents read customers
    await page.fill("#password", "agent1001")
    await page.click("#login-form button[type=submit]")
    await expect(page.locator("#total")).to_have_text("29 customers")
    await expect(page.locator("#page-info")).to_have_text("page 1 of 2")
    await expect(page.locator("#list tbody tr")).to_have_count(20)
    await page.click("#next")
    await expect(page.locator("#page-info")).to_have_text("page 2 of 2")
    await expect(page.locator("#list tbody tr")).to_have_count(9)
    await expect(page.locator("#next")).to_be_disabled()

    await page.fill("#q", "0755 8600 1234")  # Chen Gang's office line
    await page.click("#search-form button[type=submit]")
    await expect(page.locator("#list tbody tr")).to_have_count(1)
    await page.click("#list tbody tr")
    await expect(page.locator("#c-name")).to_have_text("Chen Gang")
    await expect(page.locator("#c-tier")).to_have_text("key account")
    await expect(page.locator("#c-manual")).to_have_text("(held by hand)")
    await expect(page.locator("#c-phones")).to_have_text("+8613700137000, +8675586001234, +8613700137001")
    await expect(page.locator("#c-agreement")).to_have_text("AGR-2024-0042")
    await expect(page.locator("#c-home-office")).to_have_text("SZ-NS")
    await expect(page.locator("#c-agent")).to_have_text("1001")
    await expect(page.locator("#c-addresses li")).to_have_count(2)
    await expect(page.locator("#c-history tbody tr")).to_have_count(1)
    await expect(page.locator("#c-history tbody tr td").nth(4)).to_have_text("set by hand: demo customer")

    await page.select_option("#tier", "vip")
    await page.fill("#q", "")
    await page.click("#search-form button[type=submit]")
    await expect(page.locator("#total")).to_have_text("1 customer")
    await expect(page.locator("#list tbody tr td").nth(1)).to_have_text("Zhang Wei")
