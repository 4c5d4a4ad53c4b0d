"""The background step that keeps the reports current: derive the due calls' facts, then recount the
aggregate rows they (and agents' closed state spans) marked dirty. Runs every few seconds and when poked
(queue_log lines ingested, a call ended)."""

from __future__ import annotations

from cms.aggregates import Aggregator
from cms.factbuilder import FactBuilder
from hotline.background import Periodic


class ReportsJob:
    def __init__(self, builder: FactBuilder, aggregator: Aggregator, every: float = 10.0) -> None:
        self.builder = builder
        self.aggregator = aggregator
        # poked whenever queue_log lines arrive (every 2 s under traffic); facts wait out a 10 s grace anyway, and
        # each run costs about as much for one call as for ten: a call's facts land 10–20 s after it ended
        self.task = Periodic("cms-reports", self.run_once, every, min_gap=every)

    async def run_once(self) -> tuple[int, int]:
        """(calls derived, aggregate keys recounted)."""
        facts = await self.builder.run_once()
        keys = await self.aggregator.flush()
        return facts, keys

    def poke(self) -> None:
        self.task.poke()

    def start(self) -> None:
        self.task.start()

    async def stop(self) -> None:
        await self.task.stop()
