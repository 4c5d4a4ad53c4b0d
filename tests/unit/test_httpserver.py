"""The controller's HTTP server ticks once a second, not ten times, and still stops at once when told to."""

from __future__ import annotations

import asyncio
import signal
import threading
import time
from typing import Any

import uvicorn

from hotline.httpserver import Server


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    assert scope["type"] == "http"
    await send({"type": "http.response.start", "status": 204, "headers": []})
    await send({"type": "http.response.body", "body": b""})


class Counting(Server):
    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self.on_ticks = 0

    async def on_tick(self, counter: int) -> bool:
        self.on_ticks += 1
        return await super().on_tick(counter)


def server() -> Counting:
    return Counting(uvicorn.Config(app, host="127.0.0.1", port=0, lifespan="off", log_config=None))


async def started(s: Server) -> None:
    for _ in range(1000):
        if s.started:
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the server did not start")


async def test_an_idle_server_ticks_about_once_a_second_and_keeps_its_date_header() -> None:
    s = server()
    task = asyncio.create_task(s.serve())
    await started(s)
    ticks = s.on_ticks
    await asyncio.sleep(2.5)
    assert 1 <= s.on_ticks - ticks <= 4  # uvicorn's own loop: ~25
    assert any(name == b"date" for name, _ in s.server_state.default_headers)
    s.request_exit()
    await asyncio.wait_for(task, 5)


async def test_asked_to_stop_it_stops_at_once_not_at_its_next_tick() -> None:
    s = server()
    task = asyncio.create_task(s.serve())
    await started(s)
    await asyncio.sleep(0.2)  # inside a tick's wait
    t0 = time.monotonic()
    s.request_exit()
    await asyncio.wait_for(task, 5)
    assert time.monotonic() - t0 < 0.5


async def test_a_signal_wakes_it_from_the_signal_handler() -> None:
    received: list[int] = []
    # uvicorn raises the signal it caught again once it has stopped: this process must survive that
    previous = signal.signal(signal.SIGTERM, lambda sig, _: received.append(sig))
    try:
        s = server()
        task = asyncio.create_task(s.serve())
        await started(s)
        await asyncio.sleep(0.2)
        t0 = time.monotonic()
        # uvicorn's handler as the signal would run it, from outside the loop's own callbacks
        threading.Thread(target=s.handle_exit, args=(signal.SIGTERM, None)).start()
        await asyncio.wait_for(task, 5)
        assert time.monotonic() - t0 < 0.5
    finally:
        signal.signal(signal.SIGTERM, previous)
