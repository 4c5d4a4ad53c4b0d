"""Errors that carry their HTTP status, so routes stay thin and every failure has a clear message."""

from __future__ import annotations


class HotlineError(Exception):
    status_code = 400
    code = "bad_request"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(HotlineError):
    status_code = 404
    code = "not_found"


class Conflict(HotlineError):
    status_code = 409
    code = "conflict"


class Unauthorized(HotlineError):
    status_code = 401
    code = "unauthorized"


class TelephonyUnavailable(HotlineError):
    status_code = 503
    code = "telephony_unavailable"


class DatabaseUnavailable(HotlineError):
    status_code = 503
    code = "database_unavailable"
