"""recordings' wiring: describe each recorded call's file when the call ends; serve the catalogue."""

from __future__ import annotations

from collections.abc import Iterable

from fastapi import APIRouter

import recordings.routes
from cti.events import CallEnded
from hotline.plugins import Core, Plugin
from recordings.service import RecordingCatalog


class RecordingsPlugin(Plugin):
    def __init__(self, core: Core) -> None:
        self.core = core
        self.catalog = RecordingCatalog(core.db, core.outbox, core.settings.recordings_dir)
        core.bus.subscribe(CallEnded, self.catalog.on_call_ended)

    async def start(self) -> None:
        self.catalog.start()

    async def stop(self) -> None:
        await self.catalog.stop()

    def routers(self) -> Iterable[APIRouter]:
        settings, access = self.core.settings, self.core.auth.access
        return [
            recordings.routes.build_router(
                self.core.db, settings.recordings_dir, access, settings.agents_hear_own_recordings
            )
        ]


def setup(core: Core) -> RecordingsPlugin:
    return RecordingsPlugin(core)
