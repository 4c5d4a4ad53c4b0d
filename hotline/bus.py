"""In-process event bus: typed events, subscribers by event class, failures isolated per subscriber.

Domain packages publish facts (``CallEnded``, ``AgentStateChanged``) and react to each other's facts
here instead of importing each other's internals. Synchronous handlers run at once, in subscription
order, so every subscriber sees events in the order they were published (a desk gets a call's pop
before its answer); a coroutine handler runs as a task of its own. A failing handler is logged and
never blocks the publisher or the other handlers.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from hotline.events import Event
from hotline.logs import get_logger

log = get_logger(__name__)

E = TypeVar("E", bound=Event)
Handler = Callable[[Any], Any]  # takes the event; may return an awaitable, which is run as a task


def handler_name(handler: Callable[..., Any]) -> str:
    return f"{getattr(handler, '__module__', '?')}.{getattr(handler, '__qualname__', repr(handler))}"


class EventBus:
    def __init__(self) -> None:
        self._handlers: dict[type[Event], list[Handler]] = defaultdict(list)
        self._tasks: set[asyncio.Task[None]] = set()

    def subscribe(self, event_type: type[E], handler: Callable[[E], Any]) -> None:
        self._handlers[event_type].append(handler)

    @property
    def subscriptions(self) -> dict[type[Event], list[str]]:
        """Event class → the qualified names of its handlers (for the event catalogue)."""
        return {t: [handler_name(h) for h in hs] for t, hs in self._handlers.items()}

    def publish(self, event: Event) -> None:
        for handler in self._handlers.get(type(event), ()):
            try:
                result = handler(event)
            except Exception:
                log.exception("bus handler failed", bus_event=type(event).__name__, handler=handler_name(handler))
                continue
            if asyncio.iscoroutine(result):
                task = asyncio.ensure_future(self._guard(type(event).__name__, handler, result))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)

    @staticmethod
    async def _guard(name: str, handler: Handler, coro: Awaitable[None]) -> None:
        try:
            await coro
        except Exception:
            log.exception("bus handler failed", bus_event=name, handler=handler_name(handler))

    async def drain(self, timeout: float = 5.0) -> None:
        """Wait for handlers still running (used at shutdown and in tests)."""
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=timeout)
