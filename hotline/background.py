"""Background work of a package: one task, started with the controller, cancelled and awaited at stop.

A task that dies of an error its own loop did not expect is logged and started again after a pause, so a
bug in an error path cannot silently stop, say, the queue_log ingestion for good.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable

from hotline.errors import first_line
from hotline.logs import get_logger

log = get_logger(__name__)

RESTART_PAUSE = 5.0


class Background:
    def __init__(self, name: str, run: Callable[[], Awaitable[None]], restart_pause: float = RESTART_PAUSE) -> None:
        self.name = name
        self.run = run
        self.restart_pause = restart_pause
        self.crashes = 0
        self._task: asyncio.Task[None] | None = None

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def start(self) -> None:
        self._task = asyncio.create_task(self._guarded(), name=self.name)

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _guarded(self) -> None:
        while True:
            try:
                await self.run()
                return
            except asyncio.CancelledError:
                raise
            except Exception:
                self.crashes += 1
                log.exception("background task died; starting it again", task=self.name, pause=self.restart_pause)
                await asyncio.sleep(self.restart_pause)


class Periodic(Background):
    """``step`` every ``every`` seconds, or sooner when poked; a failed step is logged and tried next time.
    With ``min_gap``, a poke runs the step no sooner than that after the previous run began: a job poked on
    every call's data then runs once for several calls instead of once per call."""

    def __init__(self, name: str, step: Callable[[], Awaitable[object]], every: float, min_gap: float = 0.0) -> None:
        super().__init__(name, self._loop)
        self.step = step
        self.every = every
        self.min_gap = min_gap
        self.runs = 0
        self._poke = asyncio.Event()

    def poke(self) -> None:
        """Run the step soon."""
        self._poke.set()

    async def _loop(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            began = loop.time()
            self.runs += 1
            try:
                await self.step()
            except asyncio.CancelledError:
                raise
            except Exception as e:
                log.warning(f"{self.name} skipped; will try again", error=first_line(e), retry_in=self.every)
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.every):
                    await self._poke.wait()
                    await asyncio.sleep(began + self.min_gap - loop.time())  # no-op when the gap has passed
            self._poke.clear()
