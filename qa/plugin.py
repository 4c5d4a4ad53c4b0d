"""qa's wiring: forms, the sampler (monthly job, on demand), reviews, the results for other packages (provided
as QA_RESULTS), the REST routes. Recorded calls come from the recordings package through RECORDINGS."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from fastapi import APIRouter

import qa.routes
from hotline.errors import ServiceUnavailable
from hotline.plugins import Core, MissingService, Plugin
from qa.config import QaConfig
from qa.interface import QA_RESULTS
from qa.services import utc_now
from qa.services.forms import FormBook
from qa.services.results import Results
from qa.services.reviews import Reviews
from qa.services.sampler import Sampler
from recordings.interface import RECORDINGS, RecordedCalls


class QaPlugin(Plugin):
    def __init__(self, core: Core, config: QaConfig | None = None, clock: Callable[[], datetime] = utc_now) -> None:
        self.core = core
        self.config = config or QaConfig.load()
        self.forms = FormBook(core.db, core.bus, clock)
        self.sampler = Sampler(core.db, core.bus, self._recordings, self.config, clock)
        self.reviews = Reviews(core.db, core.bus, clock)
        core.services.provide(QA_RESULTS, Results(core.db))

    def _recordings(self) -> RecordedCalls:
        try:
            return self.core.services.get(RECORDINGS)
        except MissingService as e:
            raise ServiceUnavailable("the recorded calls are not available: no package provides them") from e

    def routers(self) -> Iterable[APIRouter]:
        return [qa.routes.build_router(self.forms, self.sampler, self.reviews, self.core.auth.access)]

    async def start(self) -> None:
        self.sampler.task.start()

    async def stop(self) -> None:
        await self.sampler.task.stop()

    def health(self) -> dict[str, Any]:
        return {
            "qa": {
                "monthly_sample_running": self.sampler.task.running,
                "last_monthly_sample": str(self.sampler.last_monthly) if self.sampler.last_monthly else None,
            }
        }


def setup(core: Core) -> QaPlugin:
    return QaPlugin(core)
