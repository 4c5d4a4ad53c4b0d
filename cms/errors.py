"""The reports' typed errors (each carries its HTTP status)."""

from __future__ import annotations

from hotline.errors import Forbidden, HotlineError


class BadPeriod(HotlineError):
    status_code = 422
    code = "bad_period"


class QueueNotSupervised(Forbidden):
    """A supervisor asked for a queue they do not supervise."""
