"""The agent desk in a real browser over the real app and database: after a call in a queue whose wrap-up
needs a disposition, the desk shows the wrap-up form; posting it stores the disposition and frees the agent."""

from __future__ import annotations

import asyncio
from pathlib import Path

from playwright.async_api import expect
from sqlalchemy import text

from hotline.db import Database
from tests.browser import chromium, served
from tests.integration.appkit import app_kit


async def test_wrap_up_ends_with_a_disposition_from_the_desk(db: Database, pg_url: str, tmp_path: Path) -> None:
    async with app_kit(pg_url, tmp_path) as kit, served(kit.app) as url, chromium() as browser:
        headers = await kit.login("1001")
        r = await kit.client.post("/api/agents/me/login", headers=headers)
        assert r.status_code == 200 and r.json()["state"] == "available", r.text
        floor = kit.controller.plugin("acd").floor  # type: ignore[attr-defined]
        # app_queue says the agent finished a complaints call (that queue's wrap-up needs a disposition)
        floor.on_AgentComplete({"Interface": "PJSIP/1001", "Queue": "complaints", "Linkedid": "wrap.1"})
        await floor.settle()
        me = await kit.client.get("/api/agents/me", headers=headers)
        assert me.json()["state"] == "wrap_up", me.text

        page = await browser.new_page()
        await page.goto(url + "/agent")
        await page.fill("#extension", "1001")
        await page.fill("#password", "agent1001")
        await page.click("#login-form button[type=submit]")
        await expect(page.locator("#state")).to_have_text("wrap up")
        await expect(page.locator("#wrapup")).to_be_visible()
        await expect(page.locator("#btn-pause")).to_be_disabled()
        await page.select_option("#wrapup-code", "work_order_opened")
        await page.fill("#wrapup-note", "claim opened for the vase")
        await page.click("#btn-dispose")
        await expect(page.locator("#state")).to_have_text("available")
        await expect(page.locator("#wrapup")).to_be_hidden()
        rows: list[tuple[str, str, str]] = []
        for _ in range(100):  # the disposition reaches the database through the outbox
            async with db.engine.connect() as conn:
                rows = [tuple(r) for r in await conn.execute(text("SELECT agent, call_id, code FROM dispositions"))]
            if rows:
                break
            await asyncio.sleep(0.05)
        assert rows == [("1001", "wrap.1", "work_order_opened")]
