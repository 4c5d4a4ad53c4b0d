"""Database writes that must not be lost to a short outage: retried with back-off, then logged loudly."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

from hotline.logs import get_logger

log = get_logger(__name__)
T = TypeVar("T")


async def with_retries(what: str, op: Callable[[], Awaitable[T]], attempts: int = 6, first_delay: float = 0.25) -> T:
    delay = first_delay
    for attempt in range(1, attempts + 1):
        try:
            return await op()
        except Exception as e:
            if attempt == attempts:
                log.error("giving up", what=what, attempts=attempts, error=repr(e))
                raise
            log.warning("retrying", what=what, attempt=attempt, error=repr(e))
            await asyncio.sleep(delay)
            delay = min(delay * 2, 5.0)
    raise AssertionError("unreachable")
