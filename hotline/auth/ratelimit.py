"""Log-in throttling: failed attempts counted in a sliding window, per key, in memory."""

from __future__ import annotations

import time
from collections import OrderedDict, deque
from collections.abc import Callable


class SlidingWindow:
    """At most ``limit`` hits per ``window`` seconds for each key.

    ``max_keys`` bounds memory under a flood of distinct keys: the least recently hit keys are forgotten.
    """

    def __init__(
        self, limit: int, window: float, max_keys: int = 100_000, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.limit = limit
        self.window = window
        self.max_keys = max_keys
        self.clock = clock
        self._hits: OrderedDict[str, deque[float]] = OrderedDict()

    def _live(self, key: str, now: float) -> deque[float] | None:
        hits = self._hits.get(key)
        if hits is None:
            return None
        while hits and hits[0] <= now - self.window:
            hits.popleft()
        if not hits:
            del self._hits[key]
            return None
        return hits

    def retry_after(self, key: str) -> float | None:
        """Seconds until ``key`` may try again, or None if it may now."""
        now = self.clock()
        hits = self._live(key, now)
        if hits is None or len(hits) < self.limit:
            return None
        return max(hits[len(hits) - self.limit] + self.window - now, 0.001)

    def hit(self, key: str) -> None:
        now = self.clock()
        hits = self._live(key, now)
        if hits is None:
            hits = self._hits[key] = deque()
            while len(self._hits) > self.max_keys:
                self._hits.popitem(last=False)
        else:
            self._hits.move_to_end(key)
        hits.append(now)

    def reset(self, key: str) -> None:
        self._hits.pop(key, None)


class LoginLimiter:
    """Failed log-ins per username and per client address; both must be under their limits to try."""

    def __init__(
        self,
        per_user: int = 5,
        per_address: int = 20,
        window: float = 300.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.users = SlidingWindow(per_user, window, clock=clock)
        self.addresses = SlidingWindow(per_address, window, clock=clock)

    def retry_after(self, username: str, address: str) -> float | None:
        waits = [w for w in (self.users.retry_after(username.lower()), self.addresses.retry_after(address)) if w]
        return max(waits) if waits else None

    def failed(self, username: str, address: str) -> None:
        self.users.hit(username.lower())
        self.addresses.hit(address)

    def succeeded(self, username: str) -> None:
        self.users.reset(username.lower())
