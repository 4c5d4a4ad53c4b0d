"""The SLA clock of a work order, as pure arithmetic on times (the tests give the times).

A work order opened at ``t`` with an SLA of ``d`` is due at ``t + d`` and *near* its SLA at
``t + near_fraction · d``. The clock stands still while the order waits for the customer and once it is
resolved (``stopped_at`` is then set): the time stood still does not count against the SLA, so when the clock
runs again both instants move later by that time. The SLA state is read at ``stopped_at`` when stopped, else
now: a resolved order keeps the state it had when it was resolved (a late resolution stays ``breached``).

Escalation reasons: ``near`` once the near instant has passed, ``breached`` once the due instant has; each
reason escalates once in the order's life (reopening does not re-arm it), and a stopped clock escalates
nothing. When an order is first seen already breached (the job was not running at its near instant), both
reasons are due at once, near first, so the level always says how far the order went.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from workorders.states import SlaState

NEAR = "near"
BREACHED = "breached"


@dataclass(frozen=True)
class SlaClock:
    near_at: datetime
    due_at: datetime
    stopped_at: datetime | None = None

    @classmethod
    def start(cls, opened_at: datetime, sla: timedelta, near_fraction: float) -> SlaClock:
        return cls(near_at=opened_at + sla * near_fraction, due_at=opened_at + sla)

    @property
    def running(self) -> bool:
        return self.stopped_at is None

    def state(self, now: datetime) -> SlaState:
        at = self.stopped_at or now
        if at >= self.due_at:
            return SlaState.breached
        if at >= self.near_at:
            return SlaState.near
        return SlaState.ok

    def remaining(self, now: datetime) -> timedelta:
        """Time left until due (negative once overdue), frozen while stopped."""
        return self.due_at - (self.stopped_at or now)

    def stop(self, now: datetime) -> SlaClock:
        return self if self.stopped_at is not None else replace(self, stopped_at=now)

    def resume(self, now: datetime) -> SlaClock:
        if self.stopped_at is None:
            return self
        paused = max(now - self.stopped_at, timedelta(0))
        return SlaClock(near_at=self.near_at + paused, due_at=self.due_at + paused)

    def due_escalations(self, now: datetime, near_done: bool, breached_done: bool) -> list[str]:
        """The escalation reasons that fall due now, in order (none while the clock stands still)."""
        if not self.running:
            return []
        reasons = []
        if not near_done and now >= self.near_at:
            reasons.append(NEAR)
        if not breached_done and now >= self.due_at:
            reasons.append(BREACHED)
        return reasons
