"""Shared test doubles: an AGI channel driven by a script, a customer directory, an event recorder."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import Any, TypeVar

from crm_bridge.schemas import CustomerCard
from hotline.bus import EventBus
from hotline.events import Event
from hotline.fastagi import AgiHangup
from hotline.routing import IVR_PRESETS

E = TypeVar("E", bound=Event)


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
        self.args: list[str] = []  # what the dialplan passed after the script's address
        self.digits = list(digits)
        self.early = early
        self.hung_up = False
        self.hangup_after = hangup_after  # raise AgiHangup on this GET DATA (0-based)
        self.variables: dict[str, str] = {str(k): v for k, v in IVR_PRESETS.items()}  # as the dialplan leaves them
        self.played: list[tuple[str, str]] = []  # (prompt, escape digits)
        self.asked: list[tuple[str, int, int]] = []  # GET DATA (prompt, timeout_ms, max_digits)
        self.channel: dict[str, str] = {}  # what GET VARIABLE finds
        self.recorded: list[tuple[str, int]] = []  # RECORD FILE (path, max_ms)
        self.order: list[str] = []  # "play" and "ask", in the order they happened

    @property
    def uniqueid(self) -> str:
        return self.env["agi_uniqueid"]

    @property
    def caller_number(self) -> str:
        return self.env["agi_callerid"]

    async def set_variable(self, name: str, value: str) -> None:
        self.variables[name] = value

    async def set_variables(self, values: dict[str, str]) -> None:
        for name, value in values.items():
            await self.set_variable(name, value)

    async def stream_file(self, prompt: str, escape_digits: str = "") -> str:
        first = not self.played
        self.played.append((prompt, escape_digits))
        self.order.append("play")
        return self.early if first else ""

    async def get_variable(self, name: str) -> str | None:
        return self.channel.get(name)

    async def record_file(self, path: str, max_ms: int, silence_s: int = 3) -> str:
        self.recorded.append((path, max_ms))
        return "dtmf"

    async def get_data(self, prompt: str, timeout_ms: int, max_digits: int) -> tuple[str, bool]:
        if self.hangup_after is not None and len(self.asked) == self.hangup_after:
            self.hung_up = True
            raise AgiHangup("caller hung up")
        self.asked.append((prompt, timeout_ms, max_digits))
        self.order.append("ask")
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

    async def card_by_id(self, customer_id: int) -> CustomerCard | None:
        return await self.card_by_phone(f"id:{customer_id}")

    async def card_by_phone(self, number: str | None) -> CustomerCard | None:
        self.asked.append(number)
        if self.delay:
            await asyncio.sleep(self.delay)
        if isinstance(self.result, Exception):
            raise self.result
        return self.result


class Recorder:
    """Every event of the given types published on a bus, in order (all the packages' events by default)."""

    def __init__(self, bus: EventBus, *types: type[Event]) -> None:
        self.events: list[Event] = []
        for t in types or all_event_types():
            bus.subscribe(t, self.events.append)

    def named(self, kind: type[E]) -> list[E]:
        return [e for e in self.events if isinstance(e, kind)]

    def one(self, kind: type[E]) -> E:
        found = self.named(kind)
        assert len(found) == 1, (
            f"expected one {kind.__name__}, got {len(found)}: {[type(e).__name__ for e in self.events]}"
        )
        return found[0]


def all_event_types() -> list[type[Event]]:
    from hotline.catalogue import event_types

    return event_types()


class FakeAmi:
    """The AmiClient's surface the packages use: handler registration, hooks, and scripted actions."""

    def __init__(self, answers: dict[str, Any] | None = None) -> None:
        self.handlers: dict[str, list[Any]] = {}
        self.connected_hooks: list[Any] = []
        self.answers = answers or {}
        self.actions: list[tuple[str, dict[str, Any]]] = []
        self.connected = True

    def on(self, event: str, handler: Any) -> None:
        self.handlers.setdefault(event, []).append(handler)

    def on_connected(self, hook: Any) -> None:
        self.connected_hooks.append(hook)

    def on_disconnected(self, hook: Any) -> None:
        pass

    def emit(self, event: str, **fields: Any) -> None:
        for handler in self.handlers.get(event, ()):
            handler({"Event": event, **fields})

    async def connect(self) -> None:
        for hook in self.connected_hooks:
            result = hook()
            if asyncio.iscoroutine(result):
                await result

    async def action(self, name: str, as_list: bool = False, **fields: Any) -> dict[str, Any]:
        self.actions.append((name, fields))
        answer = self.answers.get(name, {"Response": "Success"})
        if isinstance(answer, Exception):
            raise answer
        return answer(fields) if callable(answer) else answer
