"""The IVR conversation against a scripted channel and a fake CRM."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from hotline.bus import EventBus
from hotline.fastagi import AgiHangup
from ivr.events import IvrCompleted, IvrStarted
from ivr.menu import Menu, load_menu
from ivr.service import PRIORITY_BOOST, IvrService
from tests.unit.fakes import FakeAgi, FakeCustomers, Recorder, card


def prompts(menu: Menu) -> dict[str, Path]:
    return {name: Path("/prompts") / name for name in menu.prompts}


def make_ivr(
    customers: FakeCustomers | None = None, menu: Menu | None = None, lookup_timeout: float = 1.0
) -> tuple[IvrService, Recorder]:
    bus = EventBus()
    menu = menu or load_menu()
    ivr = IvrService(menu, prompts(menu), customers or FakeCustomers(), bus, lookup_timeout)  # type: ignore[arg-type]
    return ivr, Recorder(bus)


def routing(agi: FakeAgi) -> dict[str, str]:
    return {k: v for k, v in agi.variables.items() if k in ("HOTLINE_QUEUE", "HOTLINE_INTENT", "HOTLINE_IVR_PATH")}


async def test_zero_routes_to_an_agent() -> None:
    ivr, events = make_ivr()
    agi = FakeAgi(digits=["0"])
    await ivr.handle(agi)  # type: ignore[arg-type]
    assert routing(agi) == {"HOTLINE_QUEUE": "support", "HOTLINE_INTENT": "agent", "HOTLINE_IVR_PATH": "main:0"}
    assert agi.variables["HOTLINE_PRIORITY"] == "0"
    assert agi.played[0] == ("/prompts/welcome", "0123")  # the greeting can be interrupted by menu digits
    assert agi.asked == [("/prompts/main_menu", 5000, 1)]
    done = events.one(IvrCompleted)
    assert done.model_dump() == {
        "uniqueid": "1700000000.1",
        "completed": True,
        "path": "main:0",
        "intent": "agent",
        "queue": "support",
        "priority": 0,
    }


async def test_digit_pressed_during_the_greeting_is_used() -> None:
    ivr, _ = make_ivr()
    agi = FakeAgi(early="2")
    await ivr.handle(agi)  # type: ignore[arg-type]
    assert agi.asked == []  # the menu prompt is not played at all
    assert routing(agi) == {"HOTLINE_QUEUE": "support", "HOTLINE_INTENT": "pickup", "HOTLINE_IVR_PATH": "main:2"}


async def test_invalid_digit_then_valid_one() -> None:
    ivr, _ = make_ivr()
    agi = FakeAgi(digits=["7", "3"])
    await ivr.handle(agi)  # type: ignore[arg-type]
    assert routing(agi) == {
        "HOTLINE_QUEUE": "support",
        "HOTLINE_INTENT": "complaint",
        "HOTLINE_IVR_PATH": "main:?>main:3",
    }
    assert ("/prompts/invalid", "") in agi.played
    assert ("/prompts/no_input", "") not in agi.played


async def test_three_timeouts_end_at_the_fallback_route() -> None:
    ivr, events = make_ivr()
    agi = FakeAgi(digits=["", "", ""])
    await ivr.handle(agi)  # type: ignore[arg-type]
    path = agi.variables["HOTLINE_IVR_PATH"]
    assert path == "main:t>main:t>main:t>main:fallback"
    assert path.endswith(":fallback")
    assert agi.variables["HOTLINE_QUEUE"] == "support"
    assert agi.variables["HOTLINE_INTENT"] == "agent"
    assert len(agi.asked) == 3
    assert agi.played.count(("/prompts/no_input", "")) == 3
    assert events.one(IvrCompleted).completed is True


@pytest.mark.parametrize(("tier", "priority"), [("vip", PRIORITY_BOOST), ("key_account", PRIORITY_BOOST)])
async def test_priority_tiers_are_boosted_and_greeted_as_such(tier: str, priority: int) -> None:
    assert priority > 0
    ivr, events = make_ivr(FakeCustomers(card(tier=tier, customer_id=42)))
    agi = FakeAgi(digits=["1"])
    await ivr.handle(agi)  # type: ignore[arg-type]
    assert agi.variables["HOTLINE_PRIORITY"] == str(priority)
    assert agi.variables["HOTLINE_CUSTOMER_ID"] == "42"
    assert agi.variables["HOTLINE_TIER"] == tier
    assert agi.played[0][0] == "/prompts/welcome_priority"
    assert events.one(IvrCompleted).priority == priority


async def test_regular_customer_is_known_but_not_boosted() -> None:
    customers = FakeCustomers(card(tier="regular", customer_id=5))
    ivr, events = make_ivr(customers)
    agi = FakeAgi(digits=["1"], caller="+86 138-0013-8000")
    await ivr.handle(agi)  # type: ignore[arg-type]
    assert customers.asked == ["+86 138-0013-8000"]
    assert agi.variables["HOTLINE_PRIORITY"] == "0"
    assert agi.variables["HOTLINE_CUSTOMER_ID"] == "5"
    assert agi.played[0][0] == "/prompts/welcome"
    started = events.one(IvrStarted)
    assert started.customer.id == 5
    assert started.lookup_failed is False
    assert started.caller == "+86 138-0013-8000"
    assert started.channel == "PJSIP/carrier-00000001"


async def test_unknown_caller_is_not_a_failure() -> None:
    ivr, events = make_ivr(FakeCustomers(None))
    agi = FakeAgi(digits=["0"])
    await ivr.handle(agi)  # type: ignore[arg-type]
    started = events.one(IvrStarted)
    assert started.customer is None
    assert started.lookup_failed is False
    assert "HOTLINE_CUSTOMER_ID" not in agi.variables


@pytest.mark.parametrize(
    "customers",
    [FakeCustomers(ConnectionRefusedError("crm down")), FakeCustomers(card(tier="vip"), delay=2.0)],
    ids=["crm raises", "crm too slow"],
)
async def test_failed_lookup_treats_the_caller_as_unknown_and_still_routes(customers: FakeCustomers) -> None:
    ivr, events = make_ivr(customers, lookup_timeout=0.05)
    agi = FakeAgi(digits=["0"])
    started_at = time.monotonic()
    await ivr.handle(agi)  # type: ignore[arg-type]
    assert time.monotonic() - started_at < 1.0
    started = events.one(IvrStarted)
    assert started.customer is None
    assert started.lookup_failed is True
    assert "HOTLINE_CUSTOMER_ID" not in agi.variables
    assert agi.variables["HOTLINE_PRIORITY"] == "0"
    assert agi.variables["HOTLINE_QUEUE"] == "support"
    assert events.one(IvrCompleted).completed is True


async def test_started_is_published_before_done() -> None:
    ivr, events = make_ivr(FakeCustomers(card()))
    await ivr.handle(FakeAgi(digits=["1"]))  # type: ignore[arg-type]
    assert [type(e).__name__ for e in events.events] == ["IvrStarted", "IvrCompleted"]


async def test_hangup_during_the_menu_publishes_an_incomplete_walk() -> None:
    ivr, events = make_ivr(FakeCustomers(card(tier="vip")))
    agi = FakeAgi(hangup_after=0)
    with pytest.raises(AgiHangup):
        await ivr.handle(agi)  # type: ignore[arg-type]
    assert "HOTLINE_QUEUE" not in agi.variables
    done = events.one(IvrCompleted)
    assert done.completed is False
    assert done.path is None
    assert done.queue is None
    assert done.priority == PRIORITY_BOOST


def two_level_menu(loop: bool = False) -> Menu:
    data: dict[str, Any] = load_menu().model_dump()
    sub: dict[str, Any] = {
        "prompt": "main_menu",
        "timeout_ms": 3000,
        "tries": 2,
        "options": {"5": {"route": {"queue": "claims", "intent": "claim"}}},
        "fallback": {"queue": "claims", "intent": "fallback"},
    }
    if loop:
        sub["options"]["9"] = {"goto": "main"}
    data["nodes"]["sub"] = sub
    data["nodes"]["main"]["options"]["9"] = {"goto": "sub"}
    return Menu.model_validate(data)


async def test_goto_walks_into_a_submenu() -> None:
    ivr, _ = make_ivr(menu=two_level_menu())
    agi = FakeAgi(digits=["9", "", "5"])
    await ivr.handle(agi)  # type: ignore[arg-type]
    assert routing(agi) == {
        "HOTLINE_QUEUE": "claims",
        "HOTLINE_INTENT": "claim",
        "HOTLINE_IVR_PATH": "main:9>sub:t>sub:5",
    }
    assert [timeout for _, timeout, _ in agi.asked] == [5000, 3000, 3000]


async def test_submenu_fallback_uses_its_own_tries_and_route() -> None:
    ivr, _ = make_ivr(menu=two_level_menu())
    agi = FakeAgi(digits=["9", "1", "2"])
    await ivr.handle(agi)  # type: ignore[arg-type]
    assert agi.variables["HOTLINE_IVR_PATH"] == "main:9>sub:?>sub:?>sub:fallback"
    assert agi.variables["HOTLINE_INTENT"] == "fallback"


async def test_goto_loop_ends_at_the_start_fallback() -> None:
    ivr, _ = make_ivr(menu=two_level_menu(loop=True))
    agi = FakeAgi(digits=["9"] * 20)
    await ivr.handle(agi)  # type: ignore[arg-type]
    path = agi.variables["HOTLINE_IVR_PATH"].split(">")
    assert path[-1] == "loop:fallback"
    assert len(path) == 21
    assert agi.variables["HOTLINE_INTENT"] == "agent"


async def test_the_routing_contract_is_written_whole() -> None:
    ivr, _ = make_ivr()
    agi = FakeAgi(digits=["3"])
    await ivr.handle(agi)  # type: ignore[arg-type]
    assert {k: agi.variables[k] for k in ("HOTLINE_ACTION", "HOTLINE_QUEUE", "HOTLINE_PRIORITY")} == {
        "HOTLINE_ACTION": "queue",
        "HOTLINE_QUEUE": "support",
        "HOTLINE_PRIORITY": "0",
    }
