"""The pop's parts beside the card: each fetched from its package, all at once, none able to hold the pop."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from cti.events import AgentOffered
from cti.extras import ExtrasLoader
from ivr.events import IvrCompleted, IvrStarted
from shipments.schemas import ShipmentSummary
from tests.unit.fakes import card
from tests.unit.test_registry import CALLER, UID, History, emit, make_registry, through_ivr
from workorders.schemas import WorkOrderSummary

NOW = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)


def shipment(waybill: str, exception: str | None = None) -> ShipmentSummary:
    return ShipmentSummary.model_validate(
        {
            "waybill": waybill,
            "status": "exception" if exception else "in_transit",
            "service": "express",
            "origin": "Beijing",
            "destination": "Shanghai",
            "created_at": NOW,
            "last_scan_kind": "exception" if exception else "in_transit",
            "last_scan_place": "Beijing hub",
            "last_scan_at": NOW,
            "exception": exception,
        }
    )


def order(order_id: int, state: str = "ok") -> WorkOrderSummary:
    return WorkOrderSummary.model_validate(
        {
            "id": order_id,
            "type": "claim",
            "claim_kind": "damage",
            "department": "claims",
            "subject": "damaged vase",
            "waybill": "7700000000032",
            "status": "open",
            "sla_due_at": NOW + timedelta(hours=3),
            "sla_state": state,
            "escalation_level": 0,
        }
    )


class Part:
    """A package's service: answers after ``delay`` seconds, or raises ``error``; remembers who was asked."""

    def __init__(self, result: list[Any], delay: float = 0.0, error: Exception | None = None) -> None:
        self.result, self.delay, self.error = result, delay, error
        self.asked: list[tuple[int, int]] = []

    async def _answer(self, customer_id: int, limit: int) -> list[Any]:
        self.asked.append((customer_id, limit))
        await asyncio.sleep(self.delay)
        if self.error:
            raise self.error
        return self.result

    async def recent_for_customer(self, customer_id: int, limit: int = 5) -> list[Any]:
        return await self._answer(customer_id, limit)

    async def open_for_customer(self, customer_id: int, limit: int = 10) -> list[Any]:
        return await self._answer(customer_id, limit)


async def test_all_parts_are_fetched_at_once_for_the_customer() -> None:
    shipments = Part([shipment("7700000000024"), shipment("7700000000032", "damage")], delay=0.2)
    orders = Part([order(7, "near")], delay=0.2)
    history = History([{"at": "2026-11-20T10:00:00+00:00", "outcome": "answered"}])
    loader = ExtrasLoader(history=history, shipments=shipments, work_orders=orders, timeout=1.0)  # type: ignore[arg-type]
    started = time.monotonic()
    extras = await loader.load(42)
    assert time.monotonic() - started < 0.35  # side by side, not one after the other (0.4 s)
    assert shipments.asked == [(42, 5)] and orders.asked == [(42, 10)] and history.asked == [42]
    assert [s.waybill for s in extras.shipments] == ["7700000000024", "7700000000032"]
    assert [o.id for o in extras.work_orders] == [7] and extras.recent_contacts[0]["outcome"] == "answered"
    assert extras.missing == []


async def test_a_slow_or_failing_part_is_left_empty_and_the_others_arrive() -> None:
    loader = ExtrasLoader(
        history=History(ConnectionError("database down")),  # type: ignore[arg-type]
        shipments=Part([], delay=5.0),  # type: ignore[arg-type]
        work_orders=Part([order(3)]),  # type: ignore[arg-type]
        timeout=0.2,
    )
    started = time.monotonic()
    extras = await loader.load(42)
    assert time.monotonic() - started < 0.5  # the slow one is given up at its bound
    assert [o.id for o in extras.work_orders] == [3]
    assert extras.shipments == [] and extras.recent_contacts == []
    assert sorted(extras.missing) == ["recent_contacts", "shipments"]


async def test_the_pop_carries_the_customers_shipments_and_open_work_orders() -> None:
    calls, bus, events, _, ami = make_registry()
    calls.extras = ExtrasLoader(
        shipments=Part([shipment("7700000000032", "damage")]),  # type: ignore[arg-type]
        work_orders=Part([order(7, "breached")]),  # type: ignore[arg-type]
    )
    through_ivr(bus, customer=card(customer_id=42))
    await asyncio.sleep(0.05)  # fetched while the caller is in the menu
    emit(ami, "AgentCalled", Interface="PJSIP/1001")
    pop = events.one(AgentOffered).pop
    assert [s.exception for s in pop.shipments] == ["damage"]
    assert [(o.id, o.sla_state) for o in pop.work_orders] == [(7, "breached")]
    assert pop.model_dump(mode="json")["work_orders"][0]["sla_due_at"].startswith("2026-11-24T13:00")


async def test_the_pop_says_what_the_caller_asked_about_in_the_ivr() -> None:
    _, bus, events, _, ami = make_registry()
    bus.publish(IvrStarted(uniqueid=UID, caller=CALLER, channel="PJSIP/carrier-1", customer=card(customer_id=42)))
    bus.publish(
        IvrCompleted(
            uniqueid=UID,
            completed=True,
            path="main:3>complaint_kind:1",
            intent="complaint",
            queue="complaints",
            waybill="7700000000032",
            work_order_id=17,
            language="zh",
        )
    )
    emit(ami, "AgentCalled", Interface="PJSIP/1001", Queue="complaints")
    pop = events.one(AgentOffered).pop
    assert (pop.waybill, pop.work_order_id, pop.language, pop.queue) == ("7700000000032", 17, "zh", "complaints")
