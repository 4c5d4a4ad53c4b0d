"""The work-order routes per role over the real app and database: agents open and change their own orders,
supervisors and admins manage all; typed errors carry their HTTP status."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from hotline.db import Database
from tests.integration.appkit import Kit, app_kit


@pytest.fixture
async def kit(db: Database, pg_url: str, tmp_path: Path) -> AsyncIterator[Kit]:
    async with app_kit(pg_url, tmp_path) as k:
        yield k


async def test_agents_open_and_change_their_own_supervisors_manage_all(kit: Kit) -> None:
    a, b, sup = await kit.login("1001"), await kit.login("1002"), await kit.login("demo-supervisor")
    c = kit.client
    body = {
        "type": "claim",
        "claim_kind": "delay",
        "subject": "late",
        "customer_id": 3,
        "waybill": "sf9",
        "call_id": "c1",
    }
    r = await c.post("/api/work-orders", headers=a, json=body)
    assert r.status_code == 201, r.text
    order = r.json()
    assert (order["department"], order["escalation_level"], order["waybill"]) == ("key_accounts", 1, "SF9")
    url = f"/api/work-orders/{order['id']}"

    r = await c.patch(url, headers=b, json={"status": "in_progress"})
    assert r.status_code == 403 and r.json()["error"] == "not_your_work_order"
    r = await c.patch(url, headers=a, json={"assignee": "1002"})
    assert r.status_code == 403
    r = await c.patch(url, headers=a, json={"status": "closed"})
    assert r.status_code == 409 and r.json()["error"] == "invalid_transition"
    r = await c.patch(url, headers=sup, json={"assignee": "1002"})
    assert r.status_code == 200 and r.json()["assignee"] == "1002"
    r = await c.patch(url, headers=b, json={"status": "resolved"})
    assert r.status_code == 200 and r.json()["status"] == "resolved"
    r = await c.post(f"{url}/revisits", headers=b, json={})
    assert r.status_code == 201 and r.json()["state"] == "scheduled"
    r = await c.post(f"{url}/calls", headers=b, json={"call_id": "c2", "recording_id": 2})
    assert r.status_code == 200 and [x["call_id"] for x in r.json()["calls"]] == ["c1", "c2"]

    view = (await c.get(url, headers=b)).json()
    assert [(h["actor"], h["action"], h["field"]) for h in view["history"]] == [
        ("1001", "opened", None),
        ("demo-supervisor", "changed", "assignee"),
        ("1002", "changed", "status"),
        ("1002", "revisit_scheduled", "revisit_due_at"),
        ("1002", "call_linked", "call_id"),
        ("1002", "recording_linked", "recording_id"),
    ]
    assert (await c.get("/api/work-orders/999999", headers=a)).status_code == 404
    bad = {"type": "claim", "subject": "no kind"}
    assert (await c.post("/api/work-orders", headers=a, json=bad)).status_code == 422
    unknown = {"type": "inquiry", "subject": "x", "customer_id": 424242}
    r = await c.post("/api/work-orders", headers=a, json=unknown)
    assert r.status_code == 422 and r.json()["error"] == "invalid_work_order"


async def test_the_queue_is_searchable_and_paged(kit: Kit) -> None:
    a = await kit.login("1001")
    r = await kit.client.get("/api/work-orders", headers=a, params={"page_size": 3})
    page = r.json()
    assert r.status_code == 200 and page["total"] == 7 and len(page["items"]) == 3
    due = [i["sla_due_at"] for i in page["items"]]
    assert due == sorted(due)  # earliest due first
    r = await kit.client.get("/api/work-orders", headers=a, params={"sla_state": "breached"})
    assert [i["subject"] for i in r.json()["items"]] == ["Pickup not done: courier never came"]
    r = await kit.client.get(
        "/api/work-orders", headers=a, params=[("status", "resolved"), ("status", "waiting_customer")]
    )
    assert sorted(i["status"] for i in r.json()["items"]) == ["resolved", "waiting_customer"]
    r = await kit.client.get("/api/work-orders", headers=a, params={"department": "key_accounts", "customer_id": 3})
    assert {i["type"] for i in r.json()["items"]} == {"claim"}
    assert (await kit.client.get("/api/work-orders", headers=a, params={"sla_state": "late"})).status_code == 422
    catalogue = (await kit.client.get("/api/work-orders/catalogue", headers=a)).json()
    assert catalogue["levels"][0] == "agent" and "key_accounts" in catalogue["departments"]
    assert catalogue["transitions"]["closed"] == ["open"]
