"""The agent who served a caller last (the sticky agent), cached in memory: the contact history is asked once
per customer (bounded), and every call that ends updates the cache, so a routing decision rarely waits."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from cms.interface import ContactHistory
from cti.events import CallEnded
from hotline.bounded import bounded
from hotline.logs import get_logger

log = get_logger(__name__)

MAX_ENTRIES = 200_000
NEGATIVE_TTL = 600.0  # seconds a "nobody served them" answer is trusted (calls that end update it anyway)


class StickyAgents:
    def __init__(
        self,
        history: Callable[[], ContactHistory | None],
        days: int,
        timeout: float = 0.05,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.history = history  # late-bound: the contact history's package is wired after the ACD
        self.days = days
        self.timeout = timeout
        self.clock = clock
        self._cache: OrderedDict[int, tuple[str | None, datetime | None, float]] = OrderedDict()
        self.misses = 0

    def on_call_ended(self, e: CallEnded) -> None:
        r = e.record
        if r.customer_id is not None and r.agent:
            self._put(r.customer_id, r.agent, r.answered_at or r.ended_at or self.clock())

    def _put(self, customer_id: int, agent: str | None, at: datetime | None) -> None:
        self._cache[customer_id] = (agent, at, time.monotonic())
        self._cache.move_to_end(customer_id)
        while len(self._cache) > MAX_ENTRIES:
            self._cache.popitem(last=False)

    async def last(self, customer_id: int) -> str | None:
        """The agent, if one served this customer within ``days``; None also when the history is slow."""
        since = self.clock() - timedelta(days=self.days)
        hit = self._cache.get(customer_id)
        if hit is not None:
            agent, at, stored = hit
            if agent is not None and at is not None:
                return agent if at >= since else None
            if time.monotonic() - stored < NEGATIVE_TTL:
                return None
        history = self.history()
        if history is None:
            return None
        self.misses += 1
        try:
            agent = await bounded(history.last_agent(customer_id, since), self.timeout)
        except Exception as e:
            log.debug("sticky agent look-up skipped", customer=customer_id, error=repr(e))
            return None
        self._put(customer_id, agent, self.clock() if agent else None)
        return agent
