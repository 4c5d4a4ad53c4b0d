"""The external CRM adapter as the controller wires it: enabled by its settings file, callers are looked up
in the CRM first, and finished calls and work-order changes are written back (through the outbox, once)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from crm_bridge.interface import CUSTOMERS
from cti.events import CallEnded, CallRecord
from tests.integration.appkit import Kit, app_kit
from tests.integration.external_crm_server import TOKEN, FakeCrm
from tests.integration.waiting import until

ZHANG = "+8613800138000"


@pytest.fixture
async def crm() -> AsyncIterator[FakeCrm]:
    server = FakeCrm()
    server.customers[ZHANG] = {"external_id": "C-001", "name": "Zhang Wei (CRM)", "phone": ZHANG, "tier": "vip"}
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
async def kit(
    pg_url: str, db: object, tmp_path: Path, crm: FakeCrm, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Kit]:
    settings = tmp_path / "external_crm.toml"
    settings.write_text(f'enabled = true\nbase_url = "{crm.base_url}"\nlookup_timeout = 1.0\n')
    monkeypatch.setenv("HOTLINE_EXTERNAL_CRM_CONFIG", str(settings))
    monkeypatch.setenv("HOTLINE_EXTERNAL_CRM_TOKEN", TOKEN)
    async with app_kit(pg_url, tmp_path) as k:
        yield k


async def test_callers_are_looked_up_in_the_crm_first_and_calls_and_work_orders_written_back(
    kit: Kit, crm: FakeCrm
) -> None:
    card = await kit.controller.core.services.get(CUSTOMERS).card_by_phone("13800138000")
    assert card is not None and card.name == "Zhang Wei (CRM)" and crm.lookups == 1
    assert card.id > 0  # the local customer's id is kept (interactions and work orders point at it)

    at = datetime.now(UTC)
    record = CallRecord(call_id="crm.1", caller="13800138000", customer_id=card.id, started_at=at, outcome="answered")
    kit.controller.core.bus.publish(CallEnded(record=record))

    headers = await kit.login("1001")
    opened = await kit.client.post(
        "/api/work-orders",
        headers=headers,
        json={"type": "inquiry", "subject": "customs duty", "customer_id": card.id, "call_id": "crm.1"},
    )
    assert opened.status_code == 201, opened.text
    order_id = opened.json()["id"]
    changed = await kit.client.patch(f"/api/work-orders/{order_id}", headers=headers, json={"status": "in_progress"})
    assert changed.status_code == 200, changed.text

    await until(lambda: len(crm.received) == 3, timeout=10)
    assert crm.received["interaction:crm.1"]["outcome"] == "answered"
    orders = sorted((b for k, b in crm.received.items() if k.startswith("work_order:")), key=lambda b: b["status"])
    assert [(b["id"], b["status"], b["subject"]) for b in orders] == [
        (order_id, "in_progress", "customs duty"),
        (order_id, "open", "customs duty"),
    ]
    assert crm.repeats == 0
    assert "external_crm" in kit.controller.plugin("crm_bridge").health()
