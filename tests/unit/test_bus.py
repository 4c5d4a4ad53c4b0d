"""The in-process event bus."""

from __future__ import annotations

import asyncio
from typing import Any

from hotline.bus import EventBus


async def test_sync_and_async_handlers_get_the_event() -> None:
    bus = EventBus()
    got: list[tuple[str, str, dict[str, Any]]] = []

    async def slow(name: str, e: dict[str, Any]) -> None:
        await asyncio.sleep(0.05)
        got.append(("async", name, e))

    bus.subscribe("call.ended", lambda name, e: got.append(("sync", name, e)))
    bus.subscribe("call.ended", slow)
    bus.publish("call.ended", {"id": 1})
    assert got == [("sync", "call.ended", {"id": 1})]  # publishing does not wait for async handlers
    await bus.drain()
    assert got[1] == ("async", "call.ended", {"id": 1})


async def test_only_subscribers_of_the_name_and_wildcard_are_called() -> None:
    bus = EventBus()
    seen: list[str] = []
    bus.subscribe("a", lambda n, e: seen.append(f"a:{n}"))
    bus.subscribe("b", lambda n, e: seen.append(f"b:{n}"))
    bus.subscribe("*", lambda n, e: seen.append(f"*:{n}"))
    bus.publish("a", {})
    bus.publish("c", {})
    assert seen == ["a:a", "*:a", "*:c"]


async def test_a_failing_handler_does_not_stop_the_others() -> None:
    bus = EventBus()
    seen: list[str] = []

    def broken(name: str, e: dict[str, Any]) -> None:
        raise RuntimeError("sync failure")

    async def broken_async(name: str, e: dict[str, Any]) -> None:
        raise RuntimeError("async failure")

    async def fine_async(name: str, e: dict[str, Any]) -> None:
        seen.append("async")

    bus.subscribe("x", broken)
    bus.subscribe("x", broken_async)
    bus.subscribe("x", lambda n, e: seen.append("sync"))
    bus.subscribe("x", fine_async)
    bus.publish("x", {})
    bus.publish("x", {})
    await bus.drain()
    assert sorted(seen) == ["async", "async", "sync", "sync"]


async def test_drain_waits_for_running_handlers_and_forgets_them() -> None:
    bus = EventBus()
    done = asyncio.Event()

    async def handler(name: str, e: dict[str, Any]) -> None:
        await asyncio.sleep(0.1)
        done.set()

    bus.subscribe("x", handler)
    bus.publish("x", {})
    assert not done.is_set()
    await bus.drain()
    assert done.is_set()
    await asyncio.sleep(0)
    assert not bus._tasks


async def test_drain_gives_up_after_its_timeout() -> None:
    bus = EventBus()
    release = asyncio.Event()

    async def stuck(name: str, e: dict[str, Any]) -> None:
        await release.wait()

    bus.subscribe("x", stuck)
    bus.publish("x", {})
    await asyncio.wait_for(bus.drain(timeout=0.05), 1)
    assert len(bus._tasks) == 1
    release.set()
    await bus.drain()
