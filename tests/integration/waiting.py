"""Waiting in tests for something another task does (the outbox's drainer, an ingester)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable


async def until(cond: Callable[[], bool], timeout: float = 30.0, step: float = 0.05) -> None:
    for _ in range(int(timeout / step)):
        if cond():
            return
        await asyncio.sleep(step)
    raise AssertionError(f"not reached within {timeout} s")
