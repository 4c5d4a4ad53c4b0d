"""The QA page in a real browser (Debian's Chromium driven by Playwright), served by the real app over the
real test database: a supervisor draws the month's sample, plays a sampled call and scores it; the agent
sees the review of their call and disputes it; a supervisor amends a disputed review with new marks; an admin
publishes the next version of a form (its mistakes refused, by the page and by the API) and retires the old
one, and the next review is scored on the new version."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Page, expect
from sqlalchemy import select

from hotline.auth import Role
from hotline.db import Database
from qa.models import QaEvaluation, QaForm, QaMark
from qa.plugin import QaPlugin
from qa.sampling import Month
from qa.schemas import EvaluationIn
from recordings.interface import RECORDINGS
from recordings.models import RecordingAccess
from tests.browser import chromium, served
from tests.integration.appkit import OTHER_QUEUE, Kit, app_kit
from tests.integration.qakit import SUPERVISOR, FakeRecordings, demo_marks, principal, recorded


@pytest.fixture
async def served_kit(db: Database, pg_url: str, tmp_path: Path) -> AsyncIterator[tuple[Kit, str]]:
    async with app_kit(pg_url, tmp_path) as kit:
        # the calls appkit recorded (their files exist: the audio route serves them), as RECORDINGS lists them
        calls = [recorded(1, "1001"), recorded(2, "1002"), recorded(3, "1002", OTHER_QUEUE)]
        kit.controller.core.services.provide(RECORDINGS, FakeRecordings(calls))
        async with served(kit.app) as url:
            yield kit, url


@pytest.fixture
def site(served_kit: tuple[Kit, str]) -> str:
    return served_kit[1]


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


async def test_a_supervisor_amends_a_disputed_review_from_the_page(
    served_kit: tuple[Kit, str], page: Page, db: Database
) -> None:
    kit, site = served_kit
    plugin = kit.controller.plugin("qa")
    assert isinstance(plugin, QaPlugin)
    run = await plugin.sampler.draw(Month(2026, 11), None, "system")
    c1 = next(x for x in run.added if x.call_id == "c1")
    form = (await plugin.forms.list())[0]
    marks = demo_marks(courtesy=3, pickup_details=None, customs_reminder=None)
    review = await plugin.reviews.submit(SUPERVISOR, c1.id, EvaluationIn(form_id=form.id, marks=marks))
    agent = principal("1001", {Role.agent})
    await plugin.reviews.dispute(agent, review.id, "the caller asked to end the call quickly")

    await page.goto(site + "/qa")
    await sign_in(page, "demo-supervisor", "demo-supervisor")
    await expect(page.locator("#review")).to_be_visible()
    await expect(page.locator("#forms-card")).to_be_hidden()  # admins only
    await page.fill("#month", "2026-11")
    await page.click("#month-form button[type=submit]")
    await expect(page.locator("#samples tbody tr").filter(has_text="c1").locator(".review-total")).to_have_text(
        "91.43 % (disputed)"
    )
    disputes = page.locator("#disputes tbody tr")
    await expect(disputes).to_have_count(1)
    await disputes.locator("input").fill("listened again: the close was courteous")
    await disputes.get_by_role("button", name="Amend…").click()
    await expect(page.locator("#r-reason")).to_have_text("the caller asked to end the call quickly")
    await expect(page.locator("#r-total")).to_have_text("91.43 %")
    amend_rows = page.locator("#r-marks tbody tr")
    await expect(amend_rows).to_have_count(7)
    await expect(amend_rows.nth(5)).to_contain_text("3 / 5")  # courtesy, as reviewed
    await expect(page.locator('[name="amend-pickup_details"]')).to_have_value("")  # n/a kept
    await expect(page.locator("#r-note")).to_have_value("listened again: the close was courteous")
    await page.select_option('[name="amend-courtesy"]', "5")
    await page.fill('[name="amend-comment-courtesy"]', "courteous after all")
    await page.click("#r-amend")
    # (10 + 15 + 20 + 15 + 10) / 70 = 100 %
    await expect(page.locator("#r-result")).to_have_text("amended: 100.00 % (was 91.43 %)")
    await expect(page.locator("#r-total")).to_have_text("100.00 %")
    await expect(disputes).to_have_count(0)
    await expect(page.locator("#samples tbody tr").filter(has_text="c1").locator(".review-total")).to_have_text(
        "100.00 % (amended)"
    )

    async with db.session() as s:
        ev = (await s.execute(select(QaEvaluation))).scalar_one()
        scores = {m.comment: m.score for m in (await s.execute(select(QaMark))).scalars() if m.comment}
    assert (ev.status, ev.total, ev.total_before_resolution) == ("amended", 100.0, 91.43)
    assert (ev.resolved_by, ev.resolution_note) == ("demo-supervisor", "listened again: the close was courteous")
    assert scores == {"courteous after all": 5}


async def test_an_admin_publishes_a_new_form_version_from_the_page_and_a_review_uses_it(
    site: str, page: Page, db: Database
) -> None:
    await page.goto(site + "/qa")
    await sign_in(page, "demo-admin", "demo-admin")
    card = page.locator("#forms-card")
    await expect(card).to_be_visible()
    versions = page.locator("#forms tbody tr")
    await expect(versions).to_have_count(1)
    await expect(versions).to_contain_text("courier-call")
    criteria = page.locator("#f-criteria tbody tr")
    errors = page.locator("#f-errors li")

    # a new form whose only criterion weighs nothing: the page refuses it before asking the API
    await page.click("#f-new")
    await page.fill("#f-name", "short-call")
    await page.fill("#f-title", "Short call")
    await criteria.nth(0).locator(".c-key").fill("greeting")
    await criteria.nth(0).locator(".c-label").fill("Greets")
    await page.click("#f-add")
    await criteria.nth(1).locator(".c-key").fill("greeting")
    await criteria.nth(1).locator(".c-label").fill("Greets again")
    await page.click("#f-publish")
    await expect(errors).to_have_text(
        [
            "criterion keys must be distinct: greeting appear more than once",
            "at least one criterion must carry weight and apply to every call (n/a not allowed)",
        ]
    )
    # what only the API checks (a label's length) comes back field by field
    await criteria.nth(1).get_by_role("button", name="Remove").click()
    await criteria.nth(0).locator(".c-weight").fill("10")
    await criteria.nth(0).locator(".c-label").fill("G" * 301)
    await page.click("#f-publish")
    await expect(errors).to_have_text(["criterion 1 (greeting) label: String should have at most 300 characters"])
    await expect(versions).to_have_count(1)

    # the next version of the demo form: courtesy weighs 30, and a new criterion
    await versions.filter(has_text="courier-call").get_by_role("button", name="New version").click()
    await expect(page.locator("#f-heading")).to_have_text("Next version of courier-call (from v1)")
    await expect(criteria).to_have_count(7)
    await expect(errors).to_have_count(0)
    await expect(page.locator("#f-weights")).to_have_text("100")
    await criteria.nth(5).locator(".c-weight").fill("30")
    await page.click("#f-add")
    new = criteria.nth(7)
    await new.locator(".c-key").fill("empathy")
    await new.locator(".c-label").fill("Acknowledges how the caller feels")
    await new.locator(".c-weight").fill("5")
    await new.locator(".c-max").fill("3")
    await expect(page.locator("#f-weights")).to_have_text("120")
    await page.click("#f-publish")
    await expect(page.locator("#f-result")).to_have_text("Published courier-call v2")
    await expect(versions).to_have_count(2)
    page.once("dialog", lambda dialog: dialog.accept())
    await versions.filter(has_text="v1").get_by_role("button", name="Retire").click()
    await expect(versions.filter(has_text="v1").locator(".form-state")).to_contain_text("retired")
    await expect(versions.filter(has_text="v1").get_by_role("button", name="Retire")).to_have_count(0)

    # a new review is scored on version 2, the only one in use
    await page.fill("#month", "2026-11")
    await page.click("#draw")
    await page.locator("#samples tbody tr").filter(has_text="c1").click()
    await expect(page.locator("#form-select option")).to_have_text(["Courier call quality (courier-call v2)"])
    await expect(page.locator("#criteria tbody tr")).to_have_count(8)
    await page.select_option('[name="score-empathy"]', "1")
    await page.click("#submit-score")
    # (10 + 15 + 20 + 10 + 20 + 30 + 10 + 5·1/3) / 120 = 97.22 %
    await expect(page.locator("#score-result")).to_have_text("review saved: 97.22 %")

    async with db.session() as s:
        forms = {(f.name, f.version): f for f in (await s.execute(select(QaForm))).scalars()}
        ev = (await s.execute(select(QaEvaluation))).scalar_one()
        scored = list((await s.execute(select(QaMark).where(QaMark.evaluation_id == ev.id))).scalars())
    assert set(forms) == {("courier-call", 1), ("courier-call", 2)}  # nothing of the refused form stored
    assert forms["courier-call", 1].retired_at is not None and forms["courier-call", 2].retired_at is None
    assert forms["courier-call", 2].created_by == "demo-admin"
    assert (ev.form_id, ev.total, ev.reviewer, len(scored)) == (forms["courier-call", 2].id, 97.22, "demo-admin", 8)


async def test_an_agent_does_not_see_the_form_editor(site: str, page: Page) -> None:
    await page.goto(site + "/qa")
    await sign_in(page, "1001", "agent1001")
    await expect(page.locator("#mine-card")).to_be_visible()
    await expect(page.locator("#forms-card")).to_be_hidden()
    await expect(page.locator("#review")).to_be_hidden()
    await expect(page.locator("#forms tbody tr")).to_have_count(0)  # not even loaded
