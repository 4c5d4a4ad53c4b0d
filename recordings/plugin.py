"""recordings' wiring: the policy (dialplan context), the desk's controls over live recordings, each recorded
call's file made compressed and described when the call ends, retention, transcription, the catalogue."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from fastapi import APIRouter
from prometheus_client import Gauge

import recordings.desk_routes
import recordings.routes
from cti.events import CallEnded
from hotline.background import Periodic
from hotline.plugins import Core, Plugin
from recordings.interface import RECORDINGS
from recordings.live import LiveRecordings
from recordings.policy import RecordingsConfig, load_config
from recordings.queries import RecordedCallsService
from recordings.retention import Retention
from recordings.service import RecordingCatalog
from recordings.transcription import Transcriber


class RecordingsPlugin(Plugin):
    def __init__(self, core: Core, config: RecordingsConfig | None = None) -> None:
        self.core = core
        self.config = config or load_config()
        root = core.settings.recordings_dir
        self.live = LiveRecordings(core.ami, self.config)
        core.ami.on("AgentConnect", self.live.on_AgentConnect)
        core.ami.on("Hangup", self.live.on_Hangup)
        core.ami.on("BridgeEnter", self.live.on_BridgeEnter)  # file time: MixMonitor writes bridged audio only
        core.ami.on("BridgeLeave", self.live.on_BridgeLeave)
        self.catalog = RecordingCatalog(core.db, core.outbox, root, self.config, self.live)
        core.bus.subscribe(CallEnded, self.catalog.on_call_ended)
        self.retention = Retention(core.db, root, self.config)
        self.purge_task = Periodic("recordings retention", self.retention.purge, self.config.purge_every_s)
        self.transcriber = Transcriber(core.db, root, self.config.transcription)
        core.services.provide(RECORDINGS, RecordedCallsService(core.db))
        Gauge(
            "hotline_recordings_bytes", "What the kept recording files weigh (last measured)", registry=core.metrics
        ).set_function(lambda: self.retention.last_usage.bytes if self.retention.last_usage else 0)
        Gauge(
            "hotline_recordings_disk_free_bytes", "Free space on the recordings' disk", registry=core.metrics
        ).set_function(lambda: self.retention.last_usage.disk_free_bytes if self.retention.last_usage else 0)

    async def start(self) -> None:
        self.catalog.start()
        self.purge_task.start()
        self.transcriber.start()

    async def stop(self) -> None:
        await self.transcriber.stop()
        await self.purge_task.stop()
        await self.catalog.stop()

    def routers(self) -> Iterable[APIRouter]:
        settings, access = self.core.settings, self.core.auth.access
        return [
            recordings.routes.build_router(
                self.core.db, settings.recordings_dir, access, settings.agents_hear_own_recordings, self.retention
            ),
            recordings.desk_routes.build_router(self.live, self.core.db, access),
        ]

    async def asterisk_context(self) -> dict[str, Any]:
        return self.config.template_context()

    def health(self) -> dict[str, Any]:
        usage = self.retention.last_usage
        return {
            "transcoded": self.catalog.transcoded,
            "transcode_failures": self.catalog.transcode_failures,
            "transcribed": self.transcriber.done,
            "transcription_failures": self.transcriber.failed,
            "purged": self.retention.purged_total,
            "bytes": usage.bytes if usage else None,
            "disk_free_bytes": usage.disk_free_bytes if usage else None,
        }


def setup(core: Core) -> RecordingsPlugin:
    return RecordingsPlugin(core)
