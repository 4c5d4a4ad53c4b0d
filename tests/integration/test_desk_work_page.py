"""The desk's work orders and callback list in a real browser over the real app and database: a work order
opened from the pop is prefilled with the caller's customer, the waybill from the IVR and the call (linked);
an order on the pop is updated (status, a note) with the call linked; the callback list dials a callback
(the agent's phone is originated first, into the callback context that then dials the customer)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from playwright.async_api import Page, expect
from sqlalchemy import text

from hotline.db import Database
from tests.browser import chromium, served
from tests.integration.appkit import Kit, app_kit

WAYBILL = "7700000000024"


async def sign_in(page: Page, url: str) -> None:
    await page.goto(url + "/agent")
    await page.fill("#extension", "1001")
    await page.fill("#password", "agent1001")
    await page.click("#login-form button[type=submit]")
    await expect(page.locator("#link")).to_have_text("online")


async def rows(db: Database, query: str, **params: Any) -> list[tuple[Any, ...]]:
    async with db.engine.connect() as conn:
        return [tuple(r) for r in await conn.execute(text(query), params)]


def pop(customer_id: int, call_id: str) -> dict[str, Any]:
    return {
        "type": "screen_pop",
        "call_id": call_id,
        "caller": "13800138000",
        "queue": "support",
        "intent": "tracking",
        "ivr_path": "main:1>track",
        "waybill": WAYBILL,
        "customer": {"id": customer_id, "name": "Zhang Wei", "phone": "+8613800138000", "tier": "vip"},
        "work_orders": [],
        "shipments": [],
        "recent_contacts": [],
    }


async def test_a_work_order_opened_then_updated_from_the_pop(db: Database, pg_url: str, tmp_path: Path) -> None:
    async with app_kit(pg_url, tmp_path) as kit, served(kit.app) as url, chromium() as browser:
        ((customer_id,),) = await rows(db, "SELECT id FROM customers WHERE phone = '+8613800138000'")
        page = await browser.new_page()
        await sign_in(page, url)
        assert kit.controller.plugin("cti").hub.push("1001", pop(customer_id, "desk.wo.1")) == 1  # type: ignore[attr-defined]
        await expect(page.locator("#pop-name")).to_have_text("Zhang Wei")

        await page.click("#btn-wo-new")
        await expect(page.locator("#wo-waybill")).to_have_value(WAYBILL)  # from the IVR
        await expect(page.locator("#wo-for")).to_have_text(f"Zhang Wei (#{customer_id})")
        await page.select_option("#wo-type", "delivery_urging")
        await expect(page.locator("#wo-claim")).to_be_hidden()
        await page.fill("#wo-subject", "parcel held at the hub for three days")
        await page.click("#btn-wo-open")
        await expect(page.locator("#wo-result")).to_contain_text("opened")
        order_id = int(await page.locator("#wo-result").get_attribute("data-order") or 0)
        stored = await rows(
            db,
            "SELECT type, customer_id, waybill, first_call_id, opened_by, status FROM work_orders WHERE id = :id",
            id=order_id,
        )
        assert stored == [("delivery_urging", customer_id, WAYBILL, "desk.wo.1", "1001", "open")]
        linked = await rows(db, "SELECT call_id FROM work_order_calls WHERE work_order_id = :id", id=order_id)
        assert linked == [("desk.wo.1",)]

        # the next call of the same caller: the order is on the pop; the agent moves it on and adds a note
        order = {
            k: v
            for k, v in (await kit.client.get(f"/api/work-orders/{order_id}", headers=await kit.login("1001")))
            .json()
            .items()
        }
        again = pop(customer_id, "desk.wo.2") | {"work_orders": [order]}
        kit.controller.plugin("cti").hub.push("1001", again)  # type: ignore[attr-defined]
        item = page.locator(f'#pop-orders li[data-order="{order_id}"]')
        await expect(item).to_contain_text("parcel held at the hub")
        await expect(page.locator("#wo-open")).to_be_hidden()  # a new call resets the forms
        await item.locator("button.wo-pick").click()
        await expect(page.locator("#wo-update")).to_be_visible()
        await page.select_option("#wo-status", "in_progress")
        await page.fill("#wo-note", "hub says it leaves tonight")
        await page.click("#btn-wo-save")
        await expect(page.locator("#wo-result")).to_contain_text(f"#{order_id} updated (in progress)")
        await expect(item).to_contain_text("in progress")
        ((status, notes),) = await rows(db, "SELECT status, notes FROM work_orders WHERE id = :id", id=order_id)
        assert status == "in_progress" and notes.endswith("(call desk.wo.2): hub says it leaves tonight")
        linked = await rows(
            db, "SELECT call_id FROM work_order_calls WHERE work_order_id = :id ORDER BY linked_at", id=order_id
        )
        assert linked == [("desk.wo.1",), ("desk.wo.2",)]


async def test_an_order_not_theirs_is_refused_with_the_reason(db: Database, pg_url: str, tmp_path: Path) -> None:
    async with app_kit(pg_url, tmp_path) as kit, served(kit.app) as url, chromium() as browser:
        ((order_id, customer_id),) = await rows(  # Li Na's demo order: opened by and assigned to 1002
            db, "SELECT id, customer_id FROM work_orders WHERE opened_by = '1002' AND assignee = '1002'"
        )
        order = (await kit.client.get(f"/api/work-orders/{order_id}", headers=await kit.login("1001"))).json()
        page = await browser.new_page()
        await sign_in(page, url)
        kit.controller.plugin("cti").hub.push("1001", pop(customer_id, "desk.wo.3") | {"work_orders": [order]})  # type: ignore[attr-defined]
        await page.locator(f'#pop-orders li[data-order="{order_id}"] button.wo-pick').click()
        await page.fill("#wo-note", "not mine")
        await page.click("#btn-wo-save")
        await expect(page.locator("#wo-error")).to_contain_text("neither opened by nor assigned to 1001")
        assert await rows(db, "SELECT 1 FROM work_order_calls WHERE call_id = 'desk.wo.3'") == []


async def _callback(kit: Kit, headers: dict[str, str]) -> int:
    r = await kit.client.post(
        "/api/callbacks", headers=headers, json={"number": "13311119999", "queue": "support", "reason": "queue_exit"}
    )
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


async def test_the_callback_list_dials_the_agent_first(db: Database, pg_url: str, tmp_path: Path) -> None:
    async with app_kit(pg_url, tmp_path) as kit, served(kit.app) as url, chromium() as browser:
        headers = await kit.login("1001")
        callback_id = await _callback(kit, headers)
        page = await browser.new_page()
        await sign_in(page, url)
        row = page.locator(f'#callbacks tr[data-callback="{callback_id}"]')
        await expect(row.locator("td.number")).to_have_text("13311119999")
        await row.locator("button.dial").click()  # not available yet: refused with the reason
        await expect(page.locator("#callback-error")).to_contain_text("be available")
        assert not [a for a in kit.ami.actions if a["Action"] == "Originate"]

        await page.click("#btn-available")
        await expect(page.locator("#state")).to_have_attribute("data-state", "available")
        await row.locator("button.dial").click()
        await expect(page.locator("#callback-result")).to_contain_text("Calling back 13311119999")
        await expect(row).to_have_attribute("data-state", "dialling")
        await expect(row.locator("button.dial")).to_be_disabled()
        (originate,) = [a for a in kit.ami.actions if a["Action"] == "Originate"]
        assert (originate["Channel"], originate["Context"]) == ("PJSIP/1001", "hotline-callback")
        assert "HOTLINE_CALLBACK_DIAL=PJSIP/carrier/sip:13311119999@" in originate["Variable"]
        me = (await kit.client.get("/api/agents/me", headers=headers)).json()
        assert (me["state"], me["pause_reason"]) == ("paused", "callback")  # reserved while it rings
        stored = await rows(db, "SELECT state, agent FROM callbacks WHERE id = :id", id=callback_id)
        assert stored == [("dialling", "1001")]
