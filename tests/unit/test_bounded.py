"""Bounded waits give up at the deadline even when the work is slow to cancel."""

from __future__ import annotations

import asyncio
import time

import pytest

from hotline.bounded import bounded


async def test_the_result_when_it_comes_in_time() -> None:
    async def quick() -> int:
        await asyncio.sleep(0.01)
        return 7

    assert await bounded(quick(), 1.0) == 7


async def test_errors_of_the_work_are_its_own() -> None:
    async def broken() -> None:
        raise ConnectionRefusedError("down")

    with pytest.raises(ConnectionRefusedError):
        await bounded(broken(), 1.0)


async def test_gives_up_at_the_deadline_though_cancelling_takes_longer() -> None:
    cleaned = asyncio.Event()

    async def stubborn() -> None:
        try:
            await asyncio.sleep(10)
        except asyncio.CancelledError:
            await asyncio.sleep(0.5)  # like asking a frozen server to cancel a query
            cleaned.set()
            raise

    started = time.monotonic()
    with pytest.raises(TimeoutError):
        await bounded(stubborn(), 0.1)
    assert time.monotonic() - started < 0.3
    await asyncio.wait_for(cleaned.wait(), 2)  # the cancellation still ran, in the background
