"""The in-process event bus: typed events, by class, in order, failures isolated."""

from __future__ import annotations

import asyncio

import pytest
from pydantic import ValidationError

from hotline.bus import EventBus
from hotline.events import Event


class Happened(Event):
    n: int


class Other(Event):
    n: int


async def test_sync_and_async_handlers_get_the_event() -> None:
    bus = EventBus()
    got: list[tuple[str, int]] = []

    async def slow(e: Happened) -> None:
        await asyncio.sleep(0.05)
        got.append(("async", e.n))

    bus.subscribe(Happened, lambda e: got.append(("sync", e.n)))
    bus.subscribe(Happened, slow)
    bus.publish(Happened(n=1))
    assert got == [("sync", 1)]  # publishing does not wait for async handlers
    await bus.drain()
    assert got[1] == ("async", 1)


async def test_only_subscribers_of_that_class_are_called_in_publish_order() -> None:
    bus = EventBus()
    seen: list[str] = []
    bus.subscribe(Happened, lambda e: seen.append(f"happened:{e.n}"))
    bus.subscribe(Other, lambda e: seen.append(f"other:{e.n}"))
    for i in range(3):
        bus.publish(Happened(n=i))
    bus.publish(Other(n=9))
    assert seen == ["happened:0", "happened:1", "happened:2", "other:9"]


def test_events_are_frozen_typed_and_know_their_publisher() -> None:
    e = Happened(n=1)
    with pytest.raises(ValidationError):
        e.n = 2  # type: ignore[misc]
    with pytest.raises(ValidationError):
        Happened(n="many")  # type: ignore[arg-type]
    assert Happened.publisher == "tests"
    from cti.events import CallEnded

    assert CallEnded.publisher == "cti"


async def test_a_failing_handler_does_not_stop_the_others() -> None:
    bus = EventBus()
    seen: list[str] = []

    def broken(e: Happened) -> None:
        raise RuntimeError("sync failure")

    async def broken_async(e: Happened) -> None:
        raise RuntimeError("async failure")

    async def fine_async(e: Happened) -> None:
        seen.append("async")

    bus.subscribe(Happened, broken)
    bus.subscribe(Happened, broken_async)
    bus.subscribe(Happened, lambda e: seen.append("sync"))
    bus.subscribe(Happened, fine_async)
    bus.publish(Happened(n=1))
    bus.publish(Happened(n=2))
    await bus.drain()
    assert sorted(seen) == ["async", "async", "sync", "sync"]


async def test_drain_waits_for_running_handlers_and_forgets_them() -> None:
    bus = EventBus()
    done = asyncio.Event()

    async def handler(e: Happened) -> None:
        await asyncio.sleep(0.1)
        done.set()

    bus.subscribe(Happened, handler)
    bus.publish(Happened(n=1))
    assert not done.is_set()
    await bus.drain()
    assert done.is_set()
    await asyncio.sleep(0)
    assert not bus._tasks


async def test_drain_gives_up_after_its_timeout() -> None:
    bus = EventBus()
    release = asyncio.Event()

    async def stuck(e: Happened) -> None:
        await release.wait()

    bus.subscribe(Happened, stuck)
    bus.publish(Happened(n=1))
    await asyncio.wait_for(bus.drain(timeout=0.05), 1)
    assert len(bus._tasks) == 1
    release.set()
    await bus.drain()


def test_subscriptions_name_the_handlers() -> None:
    bus = EventBus()

    def on_happened(e: Happened) -> None:
        pass

    bus.subscribe(Happened, on_happened)
    assert bus.subscriptions == {Happened: [f"{__name__}.test_subscriptions_name_the_handlers.<locals>.on_happened"]}
