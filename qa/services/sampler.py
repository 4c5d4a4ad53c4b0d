"""Drawing the monthly samples: for each agent with recorded calls in a month, the calls qa.sampling
chooses, stored once. A draw only adds what is missing (a month drawn before it ended is topped up from the
calls recorded since; a finished month drawn again adds nothing), under a per-month database lock, so the
monthly job and a supervisor's draw never take the same call twice."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert

from hotline.background import Periodic
from hotline.bus import EventBus
from hotline.db import Database
from hotline.logs import get_logger
from qa.config import QaConfig
from qa.events import CallsSampled
from qa.models import QaSample
from qa.sampling import Month, choose
from qa.schemas import SampleRun, SampleView
from recordings.interface import RecordedCall, RecordedCalls

log = get_logger(__name__)
SYSTEM = "system"


class Sampler:
    def __init__(
        self,
        db: Database,
        bus: EventBus,
        recordings: Callable[[], RecordedCalls],
        config: QaConfig,
        clock: Callable[[], datetime],
    ) -> None:
        self.db = db
        self.bus = bus
        self.recordings = recordings  # looked up at each draw: the recordings package provides it
        self.config = config
        self.clock = clock
        self.last_monthly: Month | None = None
        self.task = Periodic("qa monthly sample", self.monthly, config.check_every_seconds)

    async def monthly(self) -> SampleRun | None:
        """The job's step: last month's sample, drawn once per month of the clock (by the first check
        after the month turned, or at start)."""
        previous = Month.of(self.clock(), self.config.zone).previous()
        if self.last_monthly == previous:
            return None
        run = await self.draw(previous, None, SYSTEM)
        self.last_monthly = previous
        return run

    async def draw(self, month: Month, agent: str | None, by: str) -> SampleRun:
        since, until = month.bounds(self.config.zone)
        calls = await self.recordings().recorded_calls(since, until, agent)
        by_agent: dict[str, list[RecordedCall]] = defaultdict(list)
        for c in calls:
            if c.agent and c.duration_seconds >= self.config.min_duration_seconds and (agent in (None, c.agent)):
                by_agent[c.agent].append(c)
        now, n, seed = self.clock(), self.config.sample_per_agent, self.config.seed
        added: list[SampleView] = []
        events: list[CallsSampled] = []
        async with self.db.session() as s:
            await s.execute(select(func.pg_advisory_xact_lock(func.hashtext(f"qa-sample:{month}"))))
            existing: dict[str, list[int]] = defaultdict(list)
            rows = await s.execute(select(QaSample.agent, QaSample.recording_id).where(QaSample.month == str(month)))
            for who, recording_id in rows:
                existing[who].append(recording_id)
            for who in sorted(by_agent):
                chosen = choose(by_agent[who], n, seed, month, who, existing[who])
                if not chosen:
                    continue
                values = [
                    {
                        "month": str(month),
                        "agent": who,
                        "recording_id": c.recording_id,
                        "call_id": c.call_id,
                        "queue": c.queue,
                        "customer_id": c.customer_id,
                        "started_at": c.started_at,
                        "duration_seconds": c.duration_seconds,
                        "draw_key": key,
                        "drawn_at": now,
                        "drawn_by": by,
                    }
                    for key, c in chosen
                ]
                stmt = insert(QaSample).values(values).on_conflict_do_nothing().returning(QaSample)
                stored = list((await s.execute(stmt)).scalars())
                added.extend(SampleView.model_validate(r) for r in stored)
                events.append(
                    CallsSampled(
                        month=str(month), agent=who, recording_ids=[r.recording_id for r in stored], by=by, at=now
                    )
                )
            await s.commit()
        for event in events:
            self.bus.publish(event)
        if added:
            log.info("calls sampled for QA", month=str(month), agents=len(events), calls=len(added), by=by)
        return SampleRun(month=str(month), per_agent=n, agents=len(by_agent), added=added)
