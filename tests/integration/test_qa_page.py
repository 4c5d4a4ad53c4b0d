"""The QA page in a real browser (Debian's Chromium driven by Playwright), served by the real app over the
real test database: a supervisor draws the month's sample, plays a sampled call and scores it; the agent
sees the review of their call and disputes it."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Page, expect
from sqlalchemy import select

from hotline.db import Database
from qa.models import QaEvaluation
from recordings.interface import RECORDINGS
from recordings.models import RecordingAccess
from tests.browser import chromium, served
from tests.integration.appkit import OTHER_QUEUE, app_kit
from tests.integration.qakit import FakeRecordings, recorded


@pytest.fixture
async def site(db: Database, pg_url: str, tmp_path: Path) -> AsyncIterator[str]:
    async with app_kit(pg_url, tmp_path) as kit:
        # the calls appkit recorded (their files exist: the audio route serves them), as RECORDINGS lists them
        calls = [recorded(1, "1001"), recorded(2, "1002"), recorded(3, "1002", OTHER_QUEUE)]
        kit.controller.core.services.provide(RECORDINGS, FakeRecordings(calls))
        async with served(kit.app) as url:
            yield url


@pytest.fixture
async def page(tmp_path: Path) -> AsyncIterator[Page]:
    async with chromium() as browser:
        pg = await (await browser.new_context()).new_page()
        yield pg
        await pg.screenshot(path=str(tmp_path / "qa.png"), full_page=True)


async def sign_in(page: Page, username: str, password: str) -> None:
    await page.fill("#username", username)
    await page.fill("#password", password)
    await page.click("#login-form button[type=submit]")


async def test_a_supervisor_scores_a_sampled_call_and_its_agent_disputes_it(
    site: str, page: Page, db: Database
) -> None:
    await page.goto(site + "/qa")
    await sign_in(page, "demo-supervisor", "demo-supervisor")
    await expect(page.locator("#review")).to_be_visible()
    await expect(page.locator("#mine-card")).to_be_hidden()  # a supervisor only
    await page.fill("#month", "2026-11")
    await page.click("#draw")
    await expect(page.locator("#draw-result")).to_have_text("3 call(s) added (5 per agent, 2 agent(s))")
    rows = page.locator("#samples tbody tr")
    await expect(rows).to_have_count(2)  # c3 is billing's: not this supervisor's queue

    await rows.filter(has_text="c1").click()
    await expect(page.locator("#s-call")).to_have_text("c1")
    await expect(page.locator("#player")).to_have_attribute("src", re.compile(r"^blob:"))
    await expect(page.locator("#player")).to_have_attribute("data-recording", "1")
    await expect(page.locator("#criteria tbody tr")).to_have_count(7)
    await page.select_option('[name="score-courtesy"]', "3")
    await page.select_option('[name="score-pickup_details"]', "")
    await page.select_option('[name="score-customs_reminder"]', "")
    await page.fill('[name="comment-courtesy"]', "rushed the close")
    await page.fill("#comment", "good tracking, hurried ending")
    await page.click("#submit-score")
    # (10 + 15 + 20 + 15·3/5 + 10) / 70 = 91.43 %
    await expect(page.locator("#score-result")).to_have_text("review saved: 91.43 %")
    await expect(page.locator("#calibration thead tr td").nth(1)).to_have_text("demo-supervisor")
    await expect(page.locator("#calibration tbody tr.totals td").nth(1)).to_have_text("91.43")
    await expect(rows.filter(has_text="c1")).to_contain_text("reviewed (1)")

    await page.click("#signout")
    await sign_in(page, "1001", "agent1001")
    await expect(page.locator("#mine-card")).to_be_visible()
    await expect(page.locator("#review")).to_be_hidden()
    mine = page.locator("#mine tbody tr")
    await expect(mine).to_have_count(1)
    await expect(mine).to_contain_text("91.43 %")
    await mine.click()
    await expect(page.locator("#m-comment")).to_have_text("good tracking, hurried ending")
    await expect(page.locator("#m-marks tbody tr").nth(5)).to_contain_text("3 / 5")
    await page.fill("#dispute-reason", "the caller asked to end the call quickly")
    await page.click("#dispute")
    await expect(mine.locator(".status")).to_have_text("disputed")
    await expect(page.locator("#dispute")).to_be_disabled()
    await expect(page.locator("#acknowledge")).to_be_disabled()

    async with db.session() as s:
        ev = (await s.execute(select(QaEvaluation))).scalar_one()
        plays = list((await s.execute(select(RecordingAccess.username, RecordingAccess.action))).all())
    assert (ev.agent, ev.reviewer, ev.status, ev.total) == ("1001", "demo-supervisor", "disputed", 91.43)
    assert ev.dispute_reason == "the caller asked to end the call quickly"
    assert plays == [("demo-supervisor", "play")]  # the playback on the QA page was audited
