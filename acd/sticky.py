"""The agent who served a caller last (the sticky agent), held in memory: loaded in one pass at start (every
customer's last answered call within the window), kept current by every call that ends. Until the load is
done, a customer not yet known is asked of the contact history, bounded; after it, not known means nobody
served them within the window, and a decision never waits."""

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

MAX_ENTRIES = 2_000_000
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
        self.complete = False  # the whole window is loaded: a customer not in the cache was not served

    async def load(self) -> int:
        """Every customer's last agent within the window, in one pass; the number of customers."""
        history = self.history()
        if history is None:
            return 0
        since = self.clock() - timedelta(days=self.days)
        rows = await history.last_agents(since)
        for customer_id, agent, at in rows:
            known = self._cache.get(customer_id)
            if known is None or known[1] is None or known[1] < at:  # a call ended meanwhile is newer
                self._put(customer_id, agent, at)
        self.complete = len(rows) < MAX_ENTRIES
        log.info("sticky agents loaded", customers=len(rows), complete=self.complete)
        return len(rows)

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
        elif self.complete:
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
