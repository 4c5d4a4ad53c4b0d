"""Building an IVR engine over fakes: a menu (the demo one or a small one), prompt paths that name the
prompt (``/p/<language>/<name>``), services that answer as scripted, a journal that keeps what it is given."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from hotline.bus import EventBus
from hotline.plugins import ServiceKey, Services
from ivr.audio import PromptBook
from ivr.domain import Domain
from ivr.engine import Engine
from ivr.menu import Menu, parse_menu
from ivr.records import Journal, SurveyRecord, VisitRecord
from ivr.say import fragments
from ivr.store import MenuStore
from tests.unit.fakes import FakeAgi, FakeCustomers, Recorder

QUEUES = ("support", "complaints")
MONDAY_NOON = datetime(2026, 11, 23, 4, 0, tzinfo=UTC)  # 12:00 in Shanghai, a Monday


class FakeBook(PromptBook):
    """Dynamic text is "rendered" as ``/t/<text>`` (no synthesiser in unit tests)."""

    async def text(self, text: str, language: str) -> Path:
        return Path(f"/t/{text}")


def fake_book(menu: Menu, directory: Path = Path("/p")) -> PromptBook:
    prompts = {
        lang: {n: Path(f"/p/{lang}/{n}") for n, t in menu.prompts.items() if lang in t} for lang in menu.languages
    }
    frags = {lang: {n: Path(f"/f/{lang}/{n}") for n in fragments(lang)} for lang in menu.languages}
    return FakeBook(directory, menu.default_language, prompts, frags)


class KeptJournal(Journal):
    def __init__(self) -> None:
        super().__init__(None)
        self.visits: list[VisitRecord] = []
        self.surveys: list[SurveyRecord] = []
        self.batches: list[list[str]] = []  # the nodes of each batch of visits handed over at once
        self.timeline: list[str] | None = None  # a channel's ``order``: when each batch was handed over

    async def keep_visits(self, records: list[VisitRecord]) -> None:
        self.visits += records
        self.batches.append([r.node for r in records])
        if self.timeline is not None:
            self.timeline.append("kept")

    async def survey(self, record: SurveyRecord) -> None:
        self.surveys.append(record)


class Clock:
    def __init__(self, now: datetime = MONDAY_NOON) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


class Kit:
    def __init__(self, menu_path: Path, customers: FakeCustomers | None = None, now: datetime = MONDAY_NOON) -> None:
        self.store = MenuStore(menu_path, Path("/p"), lambda: QUEUES, build=fake_book)
        self.store.load_now()
        self.bus = EventBus()
        self.events = Recorder(self.bus)
        self.services = Services()
        self.clock = Clock(now)
        self.journal = KeptJournal()
        self.customers = customers or FakeCustomers()
        self.domain = Domain(self.customers, self.services, self.clock, 0.2)  # type: ignore[arg-type]
        self.engine = Engine(
            self.store,
            self.customers,
            self.domain,
            self.bus,
            self.journal,
            "/rec",
            self.clock,
            0.2,  # type: ignore[arg-type]
        )

    def provide(self, key: ServiceKey[Any], impl: object) -> None:
        self.services.provide(key, impl)

    async def call(self, agi: FakeAgi) -> FakeAgi:
        await self.engine.handle(agi)  # type: ignore[arg-type]
        return agi

    def walk(self) -> list[tuple[str, str]]:
        return [(v.node, v.result) for v in self.journal.visits]

    def nodes(self) -> list[str]:
        return [v.node for v in self.journal.visits]


def write_menu(tmp: Path, text: str) -> Path:
    path = tmp / "menu.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def menu_of(text: str) -> Menu:
    return parse_menu(text, "test.yaml", QUEUES)


class Slow:
    """Any awaited method sleeps ``delay`` then answers ``result`` (or raises it)."""

    def __init__(self, result: Any = None, delay: float = 0.0) -> None:
        self.result, self.delay = result, delay
        self.calls: list[tuple[str, tuple[Any, ...]]] = []

    def __getattr__(self, name: str) -> Any:
        async def method(*args: Any, **kwargs: Any) -> Any:
            self.calls.append((name, args))
            if self.delay:
                await asyncio.sleep(self.delay)
            if isinstance(self.result, Exception):
                raise self.result
            return self.result(*args) if callable(self.result) else self.result

        return method
