"""In-process event bus: named events, async subscribers, failures isolated per subscriber.

Domain packages publish facts (``call.ivr_done``, ``agent.state``) and react to each other's facts
here instead of importing each other. A slow or failing subscriber never blocks the publisher:
handlers run as tasks and their exceptions are logged.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Awaitable, Callable
from typing import Any

from hotline.logs import get_logger

log = get_logger(__name__)

Handler = Callable[[str, dict[str, Any]], Any]  # may return an awaitable, which is run as a task


class EventBus:
    def __init__(self) -> None:
        self._handlers: dict[str, list[Handler]] = defaultdict(list)
        self._tasks: set[asyncio.Task[None]] = set()

    def subscribe(self, name: str, handler: Handler) -> None:
        """Subscribe to one event name, or ``*`` for all of them."""
        self._handlers[name].append(handler)

    def publish(self, name: str, payload: dict[str, Any]) -> None:
        for handler in (*self._handlers.get(name, ()), *self._handlers.get("*", ())):
            try:
                result = handler(name, payload)
            except Exception:
                log.exception("bus handler failed", bus_event=name, handler=getattr(handler, "__qualname__", ""))
                continue
            if asyncio.iscoroutine(result):
                task = asyncio.ensure_future(self._guard(name, handler, result))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)

    @staticmethod
    async def _guard(name: str, handler: Handler, coro: Awaitable[None]) -> None:
        try:
            await coro
        except Exception:
            log.exception("bus handler failed", bus_event=name, handler=getattr(handler, "__qualname__", ""))

    async def drain(self, timeout: float = 5.0) -> None:
        """Wait for handlers still running (used at shutdown and in tests)."""
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=timeout)
