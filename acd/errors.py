"""The ACD's typed errors."""

from __future__ import annotations

from hotline.errors import HotlineError


class UnknownPauseReason(HotlineError):
    status_code = 422
