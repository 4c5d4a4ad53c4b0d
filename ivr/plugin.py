"""ivr's wiring: the menu (checked against the ACD's queues), its prompts, the FastAGI route, and what
the dialplan template needs (prompts and the routing contract)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from acd.interface import QUEUES
from crm_bridge.interface import CUSTOMERS
from hotline.plugins import Core, Plugin
from hotline.prompts import ensure_prompts
from hotline.routing import template_context
from ivr.menu import Menu, load_menu
from ivr.service import IvrService


class IvrPlugin(Plugin):
    def __init__(self, core: Core, menu: Menu | None = None) -> None:
        self.core = core
        self.queues = core.services.get(QUEUES)
        self.menu = menu or load_menu(known_queues=self.queues.names())
        self.customers = core.services.get(CUSTOMERS)
        self.service: IvrService | None = None

    async def _prompts(self) -> dict[str, Path]:
        return await asyncio.to_thread(ensure_prompts, self.menu.prompts, self.core.settings.prompts_dir)

    async def start(self) -> None:
        prompts, timeout = await self._prompts(), self.core.settings.lookup_timeout
        self.service = IvrService(self.menu, prompts, self.customers, self.core.bus, timeout)
        self.core.agi.route("ivr", self.service.handle)

    async def asterisk_context(self) -> dict[str, Any]:
        return {"prompts": await self._prompts(), **template_context(self.queues.default)}


def setup(core: Core) -> IvrPlugin:
    return IvrPlugin(core)
