"""The reports page in a real browser (Debian's Chromium driven by Playwright) over the real app and the
hand-computed day of tests/integration/cmsseed.py: filters, table, SVG plots, CSV download, Erlang C."""

from __future__ import annotations

import asyncio
import csv
import io
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Page, expect

from hotline.db import Database
from tests.browser import chromium, served
from tests.integration.appkit import app_kit
from tests.integration.cmsseed import seed_day
from tests.integration.test_cms_reports import job


@pytest.fixture
async def site(db: Database, pg_url: str, tmp_path: Path) -> AsyncIterator[str]:
    async with app_kit(pg_url, tmp_path) as kit:
        await seed_day(kit.controller.db)
        await job(kit.controller.db).run_once()
        async with served(kit.app) as url:
            yield url


@pytest.fixture
async def page(tmp_path: Path) -> AsyncIterator[Page]:
    async with chromium() as browser:
        context = await browser.new_context(timezone_id="Asia/Shanghai", accept_downloads=True)
        pg = await context.new_page()
        yield pg
        await pg.screenshot(path=str(tmp_path / "reports.png"), full_page=True)


async def test_a_supervisor_reads_the_day_by_queue_and_interval(site: str, page: Page) -> None:
    await page.goto(site + "/reports")
    await page.fill("#username", "demo-supervisor")
    await page.fill("#password", "demo-supervisor")
    await page.click("#login-form button[type=submit]")
    await expect(page.locator("#reports")).to_be_visible()
    await page.fill("#from", "2026-11-24")
    await page.fill("#to", "2026-11-24")
    await page.select_option("#by", "queue")
    await page.click("#filters button[type=submit]")
    row = page.locator("#table tbody tr").filter(has_text="support")
    await expect(row.locator("td")).to_have_text(
        [
            "support",
            "4",
            "3",
            "1",
            "1",
            "50.0 %",
            "18.3 s",
            "86.7 s",
            "70.0 s",
            "6.7 s",
            "10.0 s",
            "25.0 %",
            "66.7 %",
            "—",
            "—",
            "0.0 %",
            "4.00",
        ]
    )  # fmt: skip  (agents' state time is not per queue; k1 went through the IVR and was not contained)
    await expect(page.locator("[data-kpi=service_level] b")).to_have_text("50.0 %")
    await expect(page.locator("#chart-calls svg rect")).to_have_count(2)  # answered, abandoned of one queue

    await page.select_option("#by", "interval")
    await page.click("#filters button[type=submit]")
    await expect(page.locator("#table tbody tr td:first-child")).to_have_text(
        ["2026-11-24 09:00", "2026-11-24 09:15", "2026-11-24 17:00"]
    )  # Shanghai time; 17:00: the app kit's own calls (never queued)
    await expect(page.locator("#chart-sl svg circle")).to_have_count(2)  # no service level where none queued

    async with page.expect_download() as download:
        await page.click("#csv")
    path = await (await download.value).path()
    rows = list(csv.DictReader(io.StringIO(await asyncio.to_thread(Path(path).read_text))))
    assert rows[0]["key"] == "2026-11-24T01:00:00+00:00" and rows[-1]["key"] == "total"
    assert rows[-1]["offered"] == "4" and rows[-1]["answered"] == "3"

    await page.click("#staffing-form button[type=submit]")
    await expect(page.locator("#staffing tbody tr")).to_have_count(2)
    await expect(page.locator("#staffing tbody tr").first.locator("td").nth(1)).to_have_text("3")
    await expect(page.locator("#peak")).to_contain_text("peak: 2 agents")
    await expect(page.locator("#chart-staff svg rect")).to_have_count(2)


async def test_a_queue_the_supervisor_does_not_supervise_is_refused(site: str, page: Page) -> None:
    await page.goto(site + "/reports")
    await page.fill("#username", "demo-supervisor")
    await page.fill("#password", "demo-supervisor")
    await page.click("#login-form button[type=submit]")
    await page.fill("#queues", "billing")
    await page.click("#filters button[type=submit]")
    await expect(page.locator("#error")).to_contain_text("not a queue you supervise: billing")
