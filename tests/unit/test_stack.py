"""The supervisor's policy: back-off for a child that keeps dying, kept trying for ever, with a fake clock."""

from __future__ import annotations

import asyncio
import gc
import itertools
import os
import signal
import subprocess
import threading
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

from hotline.pgcluster import LocalCluster
from hotline.stack import (
    RestartPolicy,
    Stack,
    StackError,
    Supervised,
    freeze_startup_heap,
    watch_children_by_pidfd,
)


def test_back_off_doubles_to_the_cap_and_never_gives_up() -> None:
    p = RestartPolicy(base=1, cap=60, healthy_after=60)
    now = 0.0
    delays = []
    for _ in range(12):  # a crash loop: each start dies at once
        p.started(now)
        now += 0.5
        delay = p.next_delay(now)
        delays.append(delay)
        now += delay
    assert delays == [1, 2, 4, 8, 16, 32, 60, 60, 60, 60, 60, 60]


def test_back_off_resets_after_a_healthy_run() -> None:
    p = RestartPolicy(base=1, cap=60, healthy_after=60)
    p.started(0)
    assert p.next_delay(1) == 1
    p.started(2)
    assert p.next_delay(3) == 2
    p.started(5)
    assert p.next_delay(64) == 4  # ran 59 s: not yet healthy, the back-off goes on
    p.started(68)
    assert p.next_delay(128) == 1  # ran 60 s: healthy, the count starts over
    assert p.failures == 1
    assert p.next_delay(129) == 2  # failed to start at all (no started()): no reset


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_supervised_restarts_after_the_delay_and_counts_failed_starts() -> None:
    clock = FakeClock()
    alive = {"up": True}
    starts: list[float] = []
    fail_next = {"n": 0}

    def start() -> None:
        starts.append(clock.now)
        if fail_next["n"]:
            fail_next["n"] -= 1
            raise StackError("port in use")
        alive["up"] = True

    child = Supervised(
        "asterisk", lambda: None if alive["up"] else "exited (code -9)", start, RestartPolicy(), clock=clock
    )
    child.started()
    clock.now += 100
    child.poll()
    assert starts == [] and child.restart_at is None  # fine: nothing to do

    alive["up"] = False
    child.poll()
    assert child.restart_at == clock.now + 1  # ran 100 s: first delay
    clock.now += 0.5
    child.poll()
    assert starts == []  # still waiting
    fail_next["n"] = 2
    clock.now += 0.6
    child.poll()  # attempt 1 fails → 2 s
    assert len(starts) == 1 and child.restart_at == pytest.approx(clock.now + 2)
    clock.now += 2
    child.poll()  # attempt 2 fails → 4 s
    assert len(starts) == 2 and child.restart_at == pytest.approx(clock.now + 4)
    clock.now += 4
    child.poll()  # attempt 3 succeeds
    assert len(starts) == 3 and child.restart_at is None and alive["up"] and child.restarts == 3


def test_postmaster_death_is_seen_from_its_pid_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(LocalCluster, "_reachable_by_postgres", staticmethod(lambda _: True))
    cluster = LocalCluster(tmp_path, 5999)
    cluster.data.mkdir(parents=True)
    assert cluster.postmaster_pid() is None and not cluster.postmaster_died()  # never started / stopped cleanly

    pidfile = cluster.data / "postmaster.pid"
    pidfile.write_text(f"{os.getpid()}\n{cluster.data}\n")
    assert cluster.postmaster_pid() == os.getpid() and not cluster.postmaster_died()  # alive (or frozen)

    gone = subprocess.Popen(["true"])
    gone.wait()
    pidfile.write_text(f"{gone.pid}\n{cluster.data}\n")
    assert cluster.postmaster_died()  # left its file behind: crashed or killed


def test_status_summary_names_what_is_not_ok() -> None:
    from hotline.cli import summary

    report = {
        "ok": False,
        "status": "degraded",
        "components": {
            "ami": {"ok": True, "status": "ok"},
            "database": {"ok": False, "status": "down", "since": "2026-01-01T00:00:00", "error": "no answer"},
        },
    }
    assert summary(report) == "hotline: degraded; database down since 2026-01-01T00:00:00: no answer"
    assert summary({"ok": True, "status": "ok", "components": {"ami": {"ok": True}}}) == "hotline: ok"


def test_children_are_watched_by_pidfd_without_a_thread_each() -> None:
    async def run() -> tuple[int, object, int]:
        loop = asyncio.get_running_loop()
        watch_children_by_pidfd(loop)
        threads = threading.active_count()
        proc = await asyncio.create_subprocess_exec("sh", "-c", "sleep 0.2; exit 3")
        during = threading.active_count() - threads  # the default watcher starts a thread per child
        return await proc.wait(), asyncio.get_child_watcher(), during

    try:
        code, watcher, extra_threads = asyncio.run(run())
    finally:
        asyncio.set_child_watcher(None)  # back to the default for the tests after this one
    assert code == 3
    assert isinstance(watcher, asyncio.PidfdChildWatcher)
    assert extra_threads == 0


def test_the_startup_heap_is_frozen_once_the_controller_started() -> None:
    async def run() -> int:
        controller = SimpleNamespace(started=asyncio.Event())
        freezing = asyncio.create_task(freeze_startup_heap(controller))  # type: ignore[arg-type]
        await asyncio.sleep(0.05)
        assert gc.get_freeze_count() == 0, "nothing is frozen before the start is over"
        controller.started.set()
        await freezing
        return gc.get_freeze_count()

    gc.unfreeze()
    try:
        assert asyncio.run(run()) > 1000
    finally:
        gc.unfreeze()


def test_a_controller_that_leaves_livez_unanswered_is_killed_and_probed_no_more_often_than_asked() -> None:
    """The supervisor's loop with a controller that never answers: probed every ``liveness_every`` (not at
    every poll of the children), killed once silent for ``liveness_timeout``."""
    stack = Stack.__new__(Stack)
    stack.controller = subprocess.Popen(["sleep", "30"])
    stack.controller_started = time.monotonic()
    stack.children = lambda: []  # type: ignore[method-assign]
    stack.health = lambda: {"ok": False}  # type: ignore[method-assign]
    probes: list[float] = []

    def silent() -> bool:
        probes.append(time.monotonic())
        return False

    def stop_once_killed() -> None:  # the supervisor's own handler takes the signal and ends its loop
        deadline = time.monotonic() + 10
        while stack.controller is not None and stack.controller.returncode is None and time.monotonic() < deadline:
            time.sleep(0.02)
        os.kill(os.getpid(), signal.SIGTERM)

    stack.alive = silent  # type: ignore[method-assign]
    before = signal.getsignal(signal.SIGTERM)
    stopper = threading.Thread(target=stop_once_killed)
    try:
        stopper.start()
        assert stack.supervise(poll=0.02, liveness_timeout=0.5, liveness_every=0.2) == 0
    finally:
        stopper.join()
        signal.signal(signal.SIGTERM, before)
        stack.controller.kill()
        stack.controller.wait()
    assert stack.controller.returncode == -signal.SIGKILL
    gaps = [b - a for a, b in itertools.pairwise(probes)]
    assert gaps and min(gaps) >= 0.2  # the children were polled ten times as often
    assert 3 <= len(probes) <= 8, probes
