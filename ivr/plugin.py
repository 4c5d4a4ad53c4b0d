"""ivr's wiring: the menu store (checked against the ACD's queues, reloaded on change), its prompts, the
FastAGI routes (``ivr``, ``survey``), the admin routes, and what the dialplan template needs."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from fastapi import APIRouter

import ivr.routes
from acd.interface import QUEUES
from crm_bridge.interface import CUSTOMERS
from hotline.background import Periodic
from hotline.plugins import Core, Plugin
from hotline.routing import template_context
from ivr.config import IvrSettings
from ivr.domain import Domain
from ivr.engine import Engine
from ivr.records import Journal
from ivr.store import MenuStore


class IvrPlugin(Plugin):
    def __init__(self, core: Core, settings: IvrSettings | None = None) -> None:
        self.core = core
        self.settings = settings or IvrSettings()
        self.queues = core.services.get(QUEUES)
        self.store = MenuStore(self.settings.menu, core.settings.prompts_dir, self.queues.names)
        self.clock = self.settings.make_clock()
        self.journal = Journal(core.outbox)
        self.engine: Engine | None = None
        self.watch = Periodic("ivr.menu_reload", self.store.reload, self.settings.reload_every)

    async def start(self) -> None:
        await self.store.loaded()
        domain = Domain(
            self.core.services.get(CUSTOMERS), self.core.services, self.clock, self.core.settings.lookup_timeout
        )
        self.engine = Engine(
            self.store,
            self.core.services.get(CUSTOMERS),
            domain,
            self.core.bus,
            self.journal,
            str(self.core.settings.recordings_dir.resolve()),  # the path Asterisk reaches (hotline/runas.py)
            self.clock,
            self.core.settings.lookup_timeout,
        )
        self.core.agi.route("ivr", self.engine.handle)
        self.core.agi.route("survey", self.engine.survey)
        self.watch.start()

    async def stop(self) -> None:
        await self.watch.stop()

    def routers(self) -> Iterable[APIRouter]:
        return [ivr.routes.build_router(self.store, self.core.db, self.core.auth.access)]

    async def asterisk_context(self) -> dict[str, Any]:
        version = await self.store.loaded()
        return {"prompts": version.book.prompts[version.menu.default_language], **template_context(self.queues.default)}

    def health(self) -> dict[str, Any]:
        figures: dict[str, Any] = self.store.health()
        if self.engine is not None:
            figures.update(calls=self.engine.calls_total, node_failures=self.engine.failures_total)
        figures["records_not_kept"] = self.journal.failures
        return {"ivr": figures}


def setup(core: Core) -> IvrPlugin:
    return IvrPlugin(core)
