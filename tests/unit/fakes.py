"""Shared test doubles: an AGI channel driven by a script, a customer directory, an event recorder."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import Any

from crm_bridge.schemas import CustomerCard
from hotline.bus import EventBus
from hotline.fastagi import AgiHangup


def card(tier: str = "regular", customer_id: int = 7, phone: str = "13800138000") -> CustomerCard:
    return CustomerCard(id=customer_id, name="Li Wei", phone=phone, tier=tier, company="ACME", city="Shanghai")


class FakeAgi:
    """The subset of AgiSession the IVR uses. ``digits`` answer GET DATA in order: a string is the digits
    keyed ('' means a timeout); ``early`` is the digit returned by the greeting's STREAM FILE."""

    def __init__(
        self,
        digits: Iterable[str] = (),
        early: str = "",
        caller: str = "13800138000",
        uniqueid: str = "1700000000.1",
        hangup_after: int | None = None,
    ) -> None:
        self.env = {"agi_uniqueid": uniqueid, "agi_callerid": caller, "agi_channel": "PJSIP/carrier-00000001"}
        self.digits = list(digits)
        self.early = early
        self.hung_up = False
        self.hangup_after = hangup_after  # raise AgiHangup on this GET DATA (0-based)
        self.variables: dict[str, str] = {}
        self.played: list[tuple[str, str]] = []  # (prompt, escape digits)
        self.asked: list[tuple[str, int, int]] = []  # GET DATA (prompt, timeout_ms, max_digits)

    @property
    def uniqueid(self) -> str:
        return self.env["agi_uniqueid"]

    @property
    def caller_number(self) -> str:
        return self.env["agi_callerid"]

    async def set_variable(self, name: str, value: str) -> None:
        self.variables[name] = value

    async def stream_file(self, prompt: str, escape_digits: str = "") -> str:
        first = not self.played
        self.played.append((prompt, escape_digits))
        return self.early if first else ""

    async def get_data(self, prompt: str, timeout_ms: int, max_digits: int) -> tuple[str, bool]:
        if self.hangup_after is not None and len(self.asked) == self.hangup_after:
            self.hung_up = True
            raise AgiHangup("caller hung up")
        self.asked.append((prompt, timeout_ms, max_digits))
        if not self.digits:
            raise AssertionError("the IVR asked for more digits than the test scripted")
        digits = self.digits.pop(0)
        return digits, digits == ""


class FakeCustomers:
    """card_by_phone: returns ``result``, raises it if it is an exception, or sleeps ``delay`` first."""

    def __init__(self, result: CustomerCard | Exception | None = None, delay: float = 0.0) -> None:
        self.result = result
        self.delay = delay
        self.asked: list[str | None] = []

    async def card_by_phone(self, number: str | None) -> CustomerCard | None:
        self.asked.append(number)
        if self.delay:
            await asyncio.sleep(self.delay)
        if isinstance(self.result, Exception):
            raise self.result
        return self.result


class Recorder:
    """Every event published on a bus, in order."""

    def __init__(self, bus: EventBus) -> None:
        self.events: list[tuple[str, dict[str, Any]]] = []
        bus.subscribe("*", self._record)

    def _record(self, name: str, payload: dict[str, Any]) -> None:
        self.events.append((name, payload))

    def named(self, name: str) -> list[dict[str, Any]]:
        return [payload for n, payload in self.events if n == name]

    def one(self, name: str) -> dict[str, Any]:
        found = self.named(name)
        assert len(found) == 1, f"expected one {name}, got {len(found)}: {[n for n, _ in self.events]}"
        return found[0]
