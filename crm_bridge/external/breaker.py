"""A circuit breaker: after ``failures_to_open`` consecutive failures the CRM is not asked for
``cool_down`` seconds; then one trial request is let through (half-open): its success closes the circuit,
its failure opens it again for another cool-down."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, Literal

State = Literal["closed", "open", "half_open"]


class CircuitBreaker:
    def __init__(self, failures_to_open: int = 5, cool_down: float = 30.0, clock: Callable[[], float] = time.monotonic):
        if failures_to_open < 1 or cool_down <= 0:
            raise ValueError("failures_to_open >= 1 and cool_down > 0")
        self.failures_to_open = failures_to_open
        self.cool_down = cool_down
        self.clock = clock
        self.failures = 0  # consecutive
        self.opened_at: float | None = None
        self.opened_total = 0
        self._trial = False  # a half-open trial request is in flight

    @property
    def state(self) -> State:
        if self.opened_at is None:
            return "closed"
        if self.clock() - self.opened_at >= self.cool_down:
            return "half_open"
        return "open"

    def allow(self) -> bool:
        """May a request go out now? In half-open state only one at a time (the trial)."""
        state = self.state
        if state == "closed":
            return True
        if state == "open" or self._trial:
            return False
        self._trial = True
        return True

    def success(self) -> None:
        self.failures, self.opened_at, self._trial = 0, None, False

    def failure(self) -> None:
        self.failures += 1
        if self._trial or (self.opened_at is None and self.failures >= self.failures_to_open):
            self.opened_at = self.clock()
            self.opened_total += 1
        self._trial = False

    def snapshot(self) -> dict[str, Any]:
        """For /healthz."""
        retry_in = None
        if self.opened_at is not None:
            retry_in = round(max(0.0, self.cool_down - (self.clock() - self.opened_at)), 3)
        return {
            "state": self.state,
            "consecutive_failures": self.failures,
            "opened_total": self.opened_total,
            "retry_in": retry_in,
        }
