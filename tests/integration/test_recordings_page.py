"""The recordings page in a real browser (Debian's Chromium, driven by Playwright) over the real app and
database: a supervisor lists, searches by transcript words and plays a real Ogg/Opus recording (audited);
an agent sees only their own and cannot play another agent's."""

from __future__ import annotations

import asyncio
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Page, expect
from sqlalchemy import select, update

from hotline.db import Database
from recordings.models import Recording, RecordingAccess
from tests.browser import chromium, served
from tests.integration.appkit import Kit, app_kit


def _say(wav: Path, opus: Path) -> None:
    subprocess.run(["espeak-ng", "-w", str(wav), "track my parcel please"], check=True)
    subprocess.run(["opusenc", "--quiet", "--bitrate", "16", str(wav), str(opus)], check=True)


@pytest.fixture
async def kit(db: Database, pg_url: str, tmp_path: Path) -> AsyncIterator[Kit]:
    async with app_kit(pg_url, tmp_path) as k:
        wav, opus = tmp_path / "say.wav", k.recordings / "2026/11/24/c1.opus"
        await asyncio.to_thread(_say, wav, opus)
        async with db.session() as s:
            await s.execute(
                update(Recording)
                .where(Recording.id == 1)
                .values(
                    path="2026/11/24/c1.opus",
                    format="opus",
                    size_bytes=opus.stat().st_size,
                    transcript="track my parcel please",
                    transcript_state="done",
                    pauses=[{"start": 1.0, "end": 2.5, "by": "1001"}],
                )
            )
            await s.execute(
                update(Recording).where(Recording.id == 2).values(transcript="refund", transcript_state="done")
            )
            await s.commit()
        yield k


@pytest.fixture
async def page(kit: Kit, tmp_path: Path) -> AsyncIterator[tuple[Page, str]]:
    async with served(kit.app) as url, chromium() as browser:
        pg = await browser.new_page()
        yield pg, url
        await pg.screenshot(path=str(tmp_path / "recordings.png"), full_page=True)


async def sign_in(page: Page, url: str, username: str, password: str) -> None:
    await page.goto(url + "/recordings")
    await page.fill("#username", username)
    await page.fill("#password", password)
    await page.click("#login-form button[type=submit]")


async def test_a_supervisor_searches_and_plays_and_an_agent_hears_only_their_own(
    page: tuple[Page, str], kit: Kit, db: Database
) -> None:
    pg, url = page
    await sign_in(pg, url, "demo-supervisor", "demo-supervisor")
    rows = pg.locator("#list tbody tr")
    await expect(rows).to_have_count(2)  # support's c1 and c2; c3 is billing's
    await pg.fill("#f-q", "parcel")
    await pg.click("#filters button[type=submit]")
    await expect(rows).to_have_count(1)
    await expect(rows.first).to_contain_text("«parcel»")
    await rows.first.locator("button.play").click()
    await expect(pg.locator("#player-pauses")).to_contain_text("0:01–0:03")
    duration = await pg.wait_for_function(
        "() => { const a = document.getElementById('player'); return a.src && a.duration > 0 && a.duration; }"
    )
    assert 0.5 < float(await duration.json_value()) < 10  # the browser decoded the Ogg/Opus file
    await pg.click("#signout")

    await sign_in(pg, url, "1002", "agent1002")
    await expect(rows).to_have_count(2)  # their own c2 and c3
    await pg.click("#signout")
    await sign_in(pg, url, "1001", "agent1001")
    await expect(rows).to_have_count(1)
    await expect(rows.first).to_contain_text("1001")
    # another agent's recording, asked for by hand from the page: refused, nothing played
    await pg.evaluate("play({id: 2, call_id: 'c2', agent: '1002', queue: 'support', pauses: []})")
    await expect(pg.locator("#player-error")).to_contain_text("not yours to hear")
    assert await pg.evaluate("document.getElementById('player').getAttribute('src')") is None

    async with db.session() as s:
        audit = (
            await s.execute(
                select(RecordingAccess.recording_id, RecordingAccess.username, RecordingAccess.action).order_by(
                    RecordingAccess.id
                )
            )
        ).all()
    assert [tuple(a) for a in audit] == [(1, "demo-supervisor", "play")]  # the refusal served nothing
