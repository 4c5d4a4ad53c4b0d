"""queue_log ingestion (exactly once across restarts, rotation, garbage, outages) and the back-fill it feeds."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select, text

from cms.backfill import Backfill
from cms.models import Interaction, QueueLogLine, QueueLogReject
from cms.queue_log import QueueLogIngester
from cms.writers import store_calls
from cti.events import CallRecord
from hotline.db import Database
from hotline.demo import load_demo_data
from hotline.pgcluster import LocalCluster
from tests.integration.faults import frozen, stopped
from tests.integration.waiting import until


def line(t: int, callid: str, event: str, *data: str, agent: str = "NONE", queue: str = "support") -> str:
    return "|".join([str(t), callid, queue, agent, event, *data]) + "\n"


def append(path: Path, text_: str | bytes) -> None:
    with path.open("ab") as f:
        f.write(text_.encode() if isinstance(text_, str) else text_)


async def events(db: Database) -> list[tuple[str | None, str]]:
    async with db.session() as s:
        rows = await s.execute(select(QueueLogLine.callid, QueueLogLine.event).order_by(QueueLogLine.id))
        return [(c, e) for c, e in rows]


T0 = int(time.time()) - 600


async def test_lines_are_stored_once_across_partial_lines_garbage_and_a_restart(db: Database, tmp_path: Path) -> None:
    path = tmp_path / "queue_log"
    append(path, line(T0, "NONE", "QUEUESTART", queue="NONE"))
    append(path, line(T0 + 1, "1.1", "ENTERQUEUE", "", "13800138000", "1"))
    append(path, "1795468578|1.1|supp")  # Asterisk is in the middle of writing this one
    ingester = QueueLogIngester(path, db)
    assert await ingester.run_once() == 2
    assert await ingester.run_once() == 0  # the partial line waits for its newline
    append(path, "ort|NONE|RINGNOANSWER|1000\n")
    append(path, b"\xff\xfe not a queue_log line at all\n")
    append(path, line(T0 + 3, "1.1", "CONNECT", "2", "1.2", "1", agent="Wang Fang"))
    assert await ingester.run_once() == 3
    # a restarted controller resumes from the stored position: nothing twice
    again = QueueLogIngester(path, db)
    append(path, line(T0 + 9, "1.1", "COMPLETECALLER", "2", "6", "1", agent="Wang Fang"))
    assert await again.run_once() == 1
    assert await again.run_once() == 0
    assert await events(db) == [
        ("NONE", "QUEUESTART"),
        ("1.1", "ENTERQUEUE"),
        ("1.1", "RINGNOANSWER"),
        ("1.1", "CONNECT"),
        ("1.1", "COMPLETECALLER"),
    ]
    async with db.session() as s:
        rejects = list((await s.execute(select(QueueLogReject))).scalars())
        connect = (await s.execute(select(QueueLogLine).where(QueueLogLine.event == "CONNECT"))).scalar_one()
    assert len(rejects) == 1 and "not a queue_log line" in rejects[0].line
    assert (connect.agent, connect.data1, connect.data2, connect.data3) == ("Wang Fang", "2", "1.2", "1")
    assert connect.src_offset == path.read_bytes().index(f"{T0 + 3}|".encode())


async def test_rotation_finishes_the_old_file_then_reads_the_new_one(db: Database, tmp_path: Path) -> None:
    path = tmp_path / "queue_log"
    append(path, line(T0, "2.1", "ENTERQUEUE", "", "1", "1"))
    ingester = QueueLogIngester(path, db)
    assert await ingester.run_once() == 1
    append(path, line(T0 + 1, "2.1", "ABANDON", "1", "1", "4"))  # written just before the rotation
    path.rename(tmp_path / "queue_log.0")
    append(path, line(T0 + 2, "2.2", "ENTERQUEUE", "", "2", "1"))
    assert await ingester.run_once() == 2
    # rewritten in place with more than before: its first line is another, read again from the start
    path.write_text(line(T0 + 5, "2.3", "ENTERQUEUE", "", "3", "1") + line(T0 + 6, "2.3", "ABANDON", "1", "1", "1"))
    assert await ingester.run_once() == 2
    # truncated to less than was read: from the start too
    path.write_text(line(T0 + 7, "2.4", "ENTERQUEUE", "", "4", "1"))
    assert await ingester.run_once() == 1
    assert await events(db) == [
        ("2.1", "ENTERQUEUE"),
        ("2.1", "ABANDON"),
        ("2.2", "ENTERQUEUE"),
        ("2.3", "ENTERQUEUE"),
        ("2.3", "ABANDON"),
        ("2.4", "ENTERQUEUE"),
    ]


async def test_the_database_down_in_the_middle_loses_and_repeats_nothing(
    db: Database, tmp_path: Path, pg_cluster: LocalCluster
) -> None:
    path = tmp_path / "queue_log"
    for i in range(50):
        append(path, line(T0 + i, f"3.{i}", "ENTERQUEUE", "", str(i), "1"))
    ingester = QueueLogIngester(path, db, poll=0.05, chunk=1024)  # ~20 lines per transaction
    ingester.start()
    try:
        await until(lambda: ingester.lines_total >= 50)
        with stopped(pg_cluster):
            for i in range(50, 120):
                append(path, line(T0 + i, f"3.{i}", "ENTERQUEUE", "", str(i), "1"))
            await asyncio.sleep(1.0)
            assert ingester.last_error is not None
        await until(lambda: ingester.lines_total >= 120)
    finally:
        await ingester.stop()
    assert [c for c, _ in await events(db)] == [f"3.{i}" for i in range(120)]


async def test_back_fill_builds_a_row_from_queue_log_and_a_live_record_replaces_it(
    db: Database, tmp_path: Path
) -> None:
    await load_demo_data(db)
    path = tmp_path / "queue_log"
    append(path, line(T0, "4.1", "ENTERQUEUE", "", "13900139000", "1"))
    append(path, line(T0 + 4, "4.1", "CONNECT", "4", "4.2", "2", agent="Wang Fang"))
    append(path, line(T0 + 30, "4.1", "COMPLETEAGENT", "4", "26", "1", agent="Wang Fang"))
    append(path, line(T0 + 40, "4.3", "ENTERQUEUE", "", "13700137000", "1"))
    append(path, line(T0 + 52, "4.3", "ABANDON", "1", "1", "12"))
    append(path, line(T0 + 60, "4.4", "ENTERQUEUE", "", "1", "1"))  # still waiting: not back-filled
    append(path, line(int(time.time()), "4.5", "ENTERQUEUE", "", "1", "1"))
    append(path, line(int(time.time()), "4.5", "ABANDON", "1", "1", "0"))  # within the grace: not yet
    await QueueLogIngester(path, db).run_once()
    backfill = Backfill(db, grace=timedelta(seconds=60))
    assert await backfill.run() == 2
    assert await backfill.run() == 0  # never twice
    async with db.session() as s:
        rows = {r.call_id: r for r in (await s.execute(select(Interaction))).scalars()}
    assert set(rows) == {"4.1", "4.3"}
    answered, abandoned = rows["4.1"], rows["4.3"]
    assert (answered.caller, answered.queue, answered.agent, answered.outcome, answered.source) == (
        "13900139000",
        "support",
        "1001",  # Wang Fang's extension: queue_log names the member
        "answered",
        "queue_log",
    )
    assert (answered.wait_seconds, answered.talk_seconds) == (4.0, 26.0)
    assert answered.answered_at is not None and answered.ended_at is not None
    assert (answered.ended_at - answered.queued_at).total_seconds() == 30
    assert (abandoned.outcome, abandoned.wait_seconds, abandoned.agent, abandoned.talk_seconds) == (
        "abandoned",
        12.0,
        None,
        None,
    )
    # the controller's own record arrives later: it wins
    live = CallRecord(
        call_id="4.1",
        caller="13900139000",
        customer_id=2,
        ivr_path="main:0",
        started_at=answered.started_at,
        outcome="answered",
        agent="1001",
        talk_seconds=26.4,
    )
    async with db.session() as s:
        await store_calls(s, [live])
        await s.commit()
        row = (await s.execute(select(Interaction).where(Interaction.call_id == "4.1"))).scalar_one()
        assert (row.source, row.ivr_path, row.talk_seconds) == ("live", "main:0", 26.4)
        # and a later back-fill never touches it
        await s.execute(text("DELETE FROM interactions WHERE call_id = '4.3'"))
        await s.commit()
    assert await backfill.run() == 1
    async with db.session() as s:
        row = (await s.execute(select(Interaction).where(Interaction.call_id == "4.1"))).scalar_one()
    assert row.source == "live"


async def test_a_frozen_database_times_out_the_ingester_which_catches_up_after(
    db: Database, pg_cluster: LocalCluster, tmp_path: Path
) -> None:
    """A frozen database ends in a bare ``TimeoutError`` (no message): the ingester logs it, keeps its
    position and goes on once the database answers again — it must never die of it."""
    path = tmp_path / "queue_log"
    append(path, line(1795400000, "9.1", "ENTERQUEUE", "", "13800138000", "1"))
    ingester = QueueLogIngester(path, db, poll=0.1, timeout=1.0)
    ingester.start()
    try:
        await until(lambda: ingester.lines_total == 1)
        with frozen(pg_cluster):
            append(path, line(1795400001, "9.1", "CONNECT", "1", "9.2", "1", agent="Wang Fang"))
            await asyncio.sleep(4)  # attempts time out meanwhile
            assert ingester.lines_total == 1
        await until(lambda: ingester.lines_total == 2, timeout=20)
        assert ingester.task.running and ingester.task.crashes == 0  # it never died
    finally:
        await ingester.stop()
    assert [e for _, e in await events(db)] == ["ENTERQUEUE", "CONNECT"]
