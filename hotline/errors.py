"""Errors that carry their HTTP status, so routes stay thin and every failure has a clear message."""

from __future__ import annotations


class HotlineError(Exception):
    status_code = 400
    code = "bad_request"

    def __init__(self, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.headers = headers


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


class Forbidden(HotlineError):
    status_code = 403
    code = "forbidden"


class TooManyRequests(HotlineError):
    status_code = 429
    code = "too_many_requests"

    def __init__(self, message: str, retry_after: float) -> None:
        super().__init__(message, headers={"Retry-After": str(max(1, round(retry_after + 0.5)))})
        self.retry_after = retry_after


class ServiceUnavailable(HotlineError):
    status_code = 503
    code = "unavailable"


def first_line(e: BaseException) -> str:
    """An exception in one line for a log: its message's first line, or its repr when it has none (a bare
    ``TimeoutError()`` says nothing in ``str``)."""
    lines = str(e).strip().splitlines()
    return lines[0] if lines else repr(e)
