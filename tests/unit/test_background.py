"""Background tasks: stopped cleanly, restarted if they die, periodic steps poked or timed."""

from __future__ import annotations

import asyncio

from hotline.background import Background, Periodic


async def test_a_task_that_dies_unexpectedly_is_started_again() -> None:
    runs: list[int] = []

    async def fragile() -> None:
        runs.append(len(runs))
        if len(runs) < 3:
            raise IndexError("a bug in an error path")
        await asyncio.sleep(10)

    task = Background("fragile", fragile, restart_pause=0.01)
    task.start()
    await asyncio.sleep(0.2)
    assert runs == [0, 1, 2] and task.crashes == 2 and task.running
    await task.stop()
    assert not task.running


async def test_a_periodic_step_runs_on_time_when_poked_and_after_failures() -> None:
    calls: list[str] = []

    async def step() -> None:
        calls.append("step")
        if len(calls) == 2:
            raise ConnectionError("database away")

    periodic = Periodic("step", step, every=0.2)
    periodic.start()
    await asyncio.sleep(0.05)
    assert calls == ["step"]  # at start
    periodic.poke()
    await asyncio.sleep(0.05)
    assert calls == ["step", "step"]  # poked: at once (and this one failed)
    await asyncio.sleep(0.25)
    assert calls == ["step", "step", "step"]  # the failure did not stop it; the period did the rest
    await periodic.stop()


async def test_pokes_within_the_minimum_gap_make_one_run() -> None:
    runs: list[float] = []
    loop = asyncio.get_running_loop()

    async def step() -> None:
        runs.append(loop.time())

    periodic = Periodic("step", step, every=10.0, min_gap=0.3)
    periodic.start()
    await asyncio.sleep(0.02)
    for _ in range(5):  # five pokes in 0.1 s, soon after the first run
        periodic.poke()
        await asyncio.sleep(0.02)
    assert len(runs) == 1  # held back by the gap
    await asyncio.sleep(0.3)
    assert len(runs) == 2 and runs[1] - runs[0] >= 0.29  # one run for all of them, once the gap had passed
    periodic.poke()
    await asyncio.sleep(0.1)
    assert len(runs) == 2  # the next poke waits for the gap again
    await asyncio.sleep(0.25)
    assert len(runs) == 3 and periodic.runs == 3
    await periodic.stop()
