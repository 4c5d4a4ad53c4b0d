"""Waiting for a dependency no longer than we promised.

``asyncio.timeout`` cancels the work and then waits for the cancellation to finish; against a frozen
database that cancellation can itself take seconds (asyncpg asks the server to cancel the query). A caller
in the IVR must not wait for that: ``bounded`` gives up at the deadline and lets the cancellation run
in the background.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable
from typing import Any, TypeVar

T = TypeVar("T")


def _consume(task: asyncio.Future[Any]) -> None:
    with contextlib.suppress(BaseException):
        task.exception()


async def bounded(work: Awaitable[T], timeout: float) -> T:
    """The result of ``work`` if it comes within ``timeout`` seconds, else ``TimeoutError`` at the deadline."""
    task = asyncio.ensure_future(work)
    done, _ = await asyncio.wait({task}, timeout=timeout)
    if task in done:
        return task.result()
    task.cancel()
    task.add_done_callback(_consume)
    raise TimeoutError(f"no answer within {timeout} s")
