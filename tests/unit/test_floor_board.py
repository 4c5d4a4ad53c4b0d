"""The wallboard hub: rows go to the viewers whose queues they belong to, an agent leaving a viewer's
queues is said to be gone, and a viewer too slow to keep up gets a whole snapshot instead of a gap."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from floor import board as board_module
from floor.board import Wallboard
from floor.config import FloorConfig
from floor.stats import FloorStats
from hotline.bus import EventBus

T = datetime(2026, 11, 24, 2, tzinfo=UTC)


def make() -> tuple[FloorStats, Wallboard]:
    stats = FloorStats(FloorConfig(), lambda: T)
    stats.member_added("support", "1001")
    stats.member_added("billing", "1002")
    return stats, Wallboard(stats, EventBus())


def drain(viewer: board_module.Viewer) -> list[dict[str, object]]:
    out = []
    while not viewer.outbox.empty():
        out.append(json.loads(viewer.outbox.get_nowait()))
    return out


def test_rows_reach_only_the_viewers_who_may_see_them() -> None:
    stats, board = make()
    sup = board.connect("sup", frozenset({"support"}))
    admin = board.connect("admin", None)
    assert [a["agent"] for a in drain(sup)[0]["agents"]] == ["1001"]  # type: ignore[index]
    drain(admin)
    board.on_changes(stats.call_queued("x", "billing", T))
    assert drain(sup) == []
    assert [q["queue"] for q in drain(admin)[0]["queues"]] == ["billing"]  # type: ignore[index]
    board.on_changes(stats.member_removed("support", "1001"))
    (update,) = drain(sup)
    assert update["gone"] == ["1001"] and update["agents"] == []


async def test_a_slow_viewer_gets_a_snapshot_instead_of_a_gap() -> None:
    stats, board = make()
    viewer = board.connect("sup", frozenset({"support"}))
    for i in range(board_module.OUTBOX + 5):  # more than its outbox holds
        board.on_changes(stats.call_queued(f"c{i}", "support", T))
    assert viewer.stale
    messages = [json.loads(await board.next_message(viewer)) for _ in range(board_module.OUTBOX)]
    assert all(m["type"] in ("snapshot", "update") for m in messages)
    last = json.loads(await board.next_message(viewer))
    assert last["type"] == "snapshot" and last["queues"][0]["waiting"] == board_module.OUTBOX + 5
    assert not viewer.stale
