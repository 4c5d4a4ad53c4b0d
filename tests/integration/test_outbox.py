"""The durable outbox against the real database: outages, a frozen server, crashes, bad records."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
import textwrap
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from cms.models import CallLeg, Interaction
from cms.writers import KIND, store_calls
from cti.events import CallRecord, LegRecord
from cti.model import now
from hotline.db import Database
from hotline.demo import load_demo_data
from hotline.outbox import Outbox
from hotline.pgcluster import LocalCluster
from tests.integration.faults import frozen, stopped
from tests.integration.waiting import until

ROOT = Path(__file__).resolve().parents[2]


def record(call_id: str, caller: str = "13800138000", customer_id: int | None = None) -> CallRecord:
    start = now()
    return CallRecord(
        call_id=call_id,
        caller=caller,
        customer_id=customer_id,
        queue="support",
        agent="1001",
        started_at=start,
        answered_at=start + timedelta(seconds=2),
        ended_at=start + timedelta(seconds=9),
        talk_seconds=7.0,
        outcome="answered",
        legs=[LegRecord(uniqueid=call_id, channel="PJSIP/carrier-1", role="caller", started_at=start)],
    )


async def call_ids(db: Database) -> list[str]:
    async with db.session() as s:
        return list((await s.execute(select(Interaction.call_id).order_by(Interaction.call_id))).scalars())


@pytest.fixture
async def outbox(db: Database, tmp_path: Path) -> AsyncIterator[Outbox]:
    box = Outbox(tmp_path / "outbox.sqlite3", db, timeout=3.0)
    box.register(KIND, CallRecord, store_calls)
    await box.start()
    yield box
    await box.stop()


async def test_records_put_while_the_database_is_stopped_arrive_once_after(
    outbox: Outbox, db: Database, pg_cluster: LocalCluster
) -> None:
    with stopped(pg_cluster):
        for i in range(20):
            await outbox.put(KIND, record(f"down.{i:02d}"))
        await asyncio.sleep(1.5)  # the drainer tries, fails, keeps them
        assert outbox.stats.pending == 20 and outbox.stats.parked == 0
        assert outbox.stats.last_error
    await until(lambda: outbox.stats.pending == 0)
    assert await call_ids(db) == [f"down.{i:02d}" for i in range(20)]
    assert outbox.stats.delivered_total == 20
    async with db.session() as s:
        assert (await s.execute(select(func.count()).select_from(CallLeg))).scalar_one() == 20


async def test_a_frozen_database_times_out_and_the_records_arrive_after(
    outbox: Outbox, db: Database, pg_cluster: LocalCluster
) -> None:
    await outbox.put(KIND, record("before.1"))
    await until(lambda: outbox.stats.pending == 0)
    with frozen(pg_cluster):
        for i in range(5):
            await outbox.put(KIND, record(f"frozen.{i}"))
        await until(lambda: outbox.stats.last_error is not None, timeout=20)
        assert outbox.stats.pending == 5 and outbox.stats.parked == 0
    await until(lambda: outbox.stats.pending == 0, timeout=60)
    assert await call_ids(db) == ["before.1", *(f"frozen.{i}" for i in range(5))]


async def test_crash_between_commit_and_local_delete_delivers_once(
    outbox: Outbox, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = outbox._store
    assert store is not None
    real_delete = store.delete
    failures: list[int] = []

    def delete_fails_once(ids: list[int]) -> None:
        if not failures:
            failures.append(len(ids))
            raise OSError("disk gone at the worst moment")
        real_delete(ids)

    monkeypatch.setattr(store, "delete", delete_fails_once)
    for i in range(3):
        await outbox.put(KIND, record(f"twice.{i}"))
    await until(lambda: outbox.stats.pending == 0)
    assert failures  # the first delivery's local delete did fail: the batch was delivered again
    assert await call_ids(db) == ["twice.0", "twice.1", "twice.2"]


CRASHER = textwrap.dedent(
    """
    import asyncio, os, signal, sys
    from pathlib import Path
    from cti.events import CallRecord
    from cms.writers import KIND, store_calls
    from hotline.db import Database, import_all_models
    from hotline.outbox import Outbox, _Store

    import_all_models()

    def die(self, ids):  # killed after PostgreSQL committed, before the local delete
        os.kill(os.getpid(), signal.SIGKILL)

    _Store.delete = die

    async def main():
        db = Database(sys.argv[2])
        box = Outbox(Path(sys.argv[1]), db)
        box.register(KIND, CallRecord, store_calls)
        await box.start()
        for i in range(4):
            await box.put(KIND, CallRecord(call_id=f"kill.{i}", started_at="2026-01-01T00:00:00Z", outcome="answered"))
        await asyncio.sleep(30)

    asyncio.run(main())
    """
)


async def test_process_killed_after_commit_before_delete_redelivers_without_duplicates(
    db: Database, pg_url: str, tmp_path: Path
) -> None:
    path = tmp_path / "outbox.sqlite3"
    proc = await asyncio.to_thread(
        subprocess.run, [sys.executable, "-c", CRASHER, str(path), pg_url], cwd=ROOT, timeout=60, capture_output=True
    )
    assert proc.returncode == -signal.SIGKILL, proc.stderr.decode()[-2000:]
    delivered_before = await call_ids(db)
    assert delivered_before  # PostgreSQL has the batch …
    box = Outbox(path, db)
    box.register(KIND, CallRecord, store_calls)
    await box.start()
    try:
        assert box.stats.pending == 4  # … and the outbox still holds it
        await until(lambda: box.stats.pending == 0)
    finally:
        await box.stop()
    assert await call_ids(db) == [f"kill.{i}" for i in range(4)]


async def test_a_bad_record_is_parked_and_its_batch_mates_delivered(outbox: Outbox, db: Database) -> None:
    await load_demo_data(db)
    for i in range(7):
        await outbox.put(KIND, record(f"batch.{i}", customer_id=99_999 if i == 4 else 1))
    await until(lambda: outbox.stats.pending == 0)
    assert await call_ids(db) == [f"batch.{i}" for i in range(7) if i != 4]
    assert outbox.stats.parked == 1
    parked = await outbox.parked()
    assert [p.kind for p in parked] == [KIND] and "batch.4" in parked[0].body
    assert "foreign key" in parked[0].error.lower()
    # once the cause is fixed, it goes through
    async with db.session() as s:
        await s.execute(Interaction.__table__.delete())
        await s.commit()
    assert await outbox.retry_parked([p.id for p in parked]) == 1
    await until(lambda: outbox.stats.pending == 0)
    assert outbox.stats.parked == 1  # the customer still does not exist: parked again, not retried forever


async def test_a_huge_caller_id_is_cut_to_its_column_not_a_failure(outbox: Outbox, db: Database) -> None:
    await outbox.put(KIND, record("long.1", caller="1" * 10_000 + "\x00"))
    await until(lambda: outbox.stats.pending == 0)
    async with db.session() as s:
        caller = (await s.execute(select(Interaction.caller))).scalar_one()
    assert caller == "1" * 64
    assert outbox.stats.parked == 0


async def test_a_live_record_replaces_a_back_filled_row_but_not_a_live_one(outbox: Outbox, db: Database) -> None:
    async with db.session() as s:
        s.add(Interaction(call_id="bf.1", outcome="abandoned", started_at=now(), source="queue_log"))
        await s.commit()
    await outbox.put(KIND, record("bf.1"))
    await until(lambda: outbox.stats.pending == 0)
    second = record("bf.1", caller="555")
    await outbox.put(KIND, second)
    await until(lambda: outbox.stats.pending == 0)
    async with db.session() as s:
        row = (await s.execute(select(Interaction))).scalar_one()
    assert (row.source, row.outcome, row.caller) == ("live", "answered", "13800138000")


async def test_group_commit_shares_fsyncs_between_concurrent_puts(outbox: Outbox) -> None:
    n = 2000
    loop = asyncio.get_running_loop()
    t0 = loop.time()
    await asyncio.gather(*(outbox.put(KIND, record(f"g.{i}")) for i in range(n)))
    elapsed = loop.time() - t0
    print(f"\n{n} concurrent puts in {elapsed:.3f} s: {n / elapsed:.0f}/s, {outbox.commits} local commits")
    assert outbox.commits < n / 10
    await until(lambda: outbox.stats.pending == 0, timeout=60)


async def test_records_put_together_share_one_local_commit_and_all_arrive(outbox: Outbox, db: Database) -> None:
    await outbox.put_many(KIND, [record(f"m.{i}") for i in range(5)])
    assert outbox.commits == 1
    await outbox.put_many(KIND, [])
    assert outbox.commits == 1
    await until(lambda: outbox.stats.pending == 0)
    assert await call_ids(db) == [f"m.{i}" for i in range(5)]


async def test_an_admin_sees_parked_records_and_puts_them_back_in_line(
    db: Database, pg_url: str, tmp_path: Path
) -> None:
    from tests.integration.appkit import app_kit

    async with app_kit(pg_url, tmp_path) as kit:
        outbox = kit.controller.core.outbox
        bad = record("bad.1", customer_id=999_999)  # no such customer: refused for good
        await outbox.put("call", bad)
        await until(lambda: outbox.stats.parked == 1)
        admin = await kit.login("demo-admin")
        shown = (await kit.client.get("/api/admin/outbox", headers=admin)).json()
        assert shown["parked"] == 1 and shown["parked_records"][0]["kind"] == "call"
        assert "foreign key" in shown["parked_records"][0]["error"].lower()
        assert (await kit.client.get("/api/admin/outbox", headers=await kit.login("1001"))).status_code == 403
        async with db.session() as s:  # the cause is fixed: the customer exists now
            await s.execute(text("INSERT INTO customers (id, name, phone, tier) VALUES (999999, 'x', '+1', 'vip')"))
            await s.commit()
        r = await kit.client.post(
            "/api/admin/outbox/retry", headers=admin, json={"ids": [shown["parked_records"][0]["id"]]}
        )
        assert r.json() == {"requeued": 1}
        await until(lambda: outbox.stats.pending == 0 and outbox.stats.parked == 0)
        async with db.session() as s:
            assert (await s.execute(text("SELECT count(*) FROM interactions WHERE call_id = 'bad.1'"))).scalar() == 1


async def test_kinds_of_one_window_share_a_transaction_and_a_bad_one_only_parks_itself(
    db: Database, tmp_path: Path
) -> None:
    """What one call leaves behind (here: a call record and a second kind) goes in one PostgreSQL transaction;
    when one kind's record is bad, the window falls back to kind by kind and only that record is parked."""
    from acd.service import STATE_KIND, AgentStateRecord, store_agent_states

    await load_demo_data(db)
    box = Outbox(tmp_path / "outbox.sqlite3", db, timeout=3.0, linger=0.2)
    box.register(KIND, CallRecord, store_calls)
    box.register(STATE_KIND, AgentStateRecord, store_agent_states)
    await box.start()
    try:
        await until(lambda: box.stats.pending == 0)
        before = box.transactions
        for i in range(3):  # within the linger: one window
            await box.put(KIND, record(f"tx.{i}"))
            await box.put(
                STATE_KIND,
                AgentStateRecord(event_id=f"tx.{i}", extension="1001", state="available", reason=None, at=now()),
            )
        await until(lambda: box.stats.pending == 0)
        assert box.transactions - before == 1
        assert await call_ids(db) == ["tx.0", "tx.1", "tx.2"]
        assert await _states(db) == 3

        before = box.transactions
        await box.put(KIND, record("tx.bad", customer_id=99_999))  # a customer that does not exist
        await box.put(
            STATE_KIND, AgentStateRecord(event_id="tx.3", extension="1001", state="paused", reason="break", at=now())
        )
        await box.put(KIND, record("tx.4"))
        await until(lambda: box.stats.pending == 0)
        assert box.transactions - before > 1  # the shared attempt failed, then kind by kind
        assert await call_ids(db) == ["tx.0", "tx.1", "tx.2", "tx.4"]
        assert await _states(db) == 4
        assert [p.kind for p in await box.parked()] == [KIND]
    finally:
        await box.stop()


async def _states(db: Database) -> int:
    async with db.session() as s:
        return int(
            (await s.execute(text("SELECT count(*) FROM agent_state_log WHERE event_id LIKE 'tx.%'"))).scalar_one()
        )


async def test_records_put_since_start_come_from_memory_and_older_ones_from_the_file(
    db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import hotline.outbox as outbox_module

    path = tmp_path / "outbox.sqlite3"
    earlier = Outbox(path, db, stop_grace=0.1)  # a run that ended before delivering anything
    earlier.register(KIND, CallRecord, store_calls)
    await earlier.start()
    assert earlier._drainer is not None
    earlier._drainer.cancel()
    for i in range(3):
        await earlier.put(KIND, record(f"old.{i}"))
    await earlier.stop()

    reads: list[int] = []
    real_fetch = outbox_module._Store.fetch

    def counted_fetch(self: outbox_module._Store, limit: int) -> list[outbox_module._Row]:
        rows = real_fetch(self, limit)
        reads.append(len(rows))
        return rows

    monkeypatch.setattr(outbox_module._Store, "fetch", counted_fetch)
    box = Outbox(path, db, linger=0.05)
    box.register(KIND, CallRecord, store_calls)
    await box.start()
    try:
        assert box.stats.pending == 3
        await until(lambda: box.stats.pending == 0)
        assert reads and reads[0] == 3  # the records from before are read from the file …
        read_before = len(reads)
        for i in range(3):
            await box.put(KIND, record(f"new.{i}"))
        await until(lambda: box.stats.pending == 0)
        assert len(reads) == read_before  # … those put since start are not read back
        assert await call_ids(db) == [*(f"new.{i}" for i in range(3)), *(f"old.{i}" for i in range(3))]

        monkeypatch.setattr(outbox_module, "MIRROR_MAX", 4)  # a long outage: memory gives its copy up
        await asyncio.gather(*(box.put(KIND, record(f"many.{i}")) for i in range(6)))
        await until(lambda: box.stats.pending == 0)
        assert len(reads) > read_before  # read from the file again, and every record delivered once
        assert len(await call_ids(db)) == 12
    finally:
        await box.stop()


async def test_stopping_cuts_the_linger_short_and_delivers_what_waits(db: Database, tmp_path: Path) -> None:
    box = Outbox(tmp_path / "outbox.sqlite3", db, linger=30.0, stop_grace=5.0)
    box.register(KIND, CallRecord, store_calls)
    await box.start()
    await until(lambda: box.stats.pending == 0)
    await box.put(KIND, record("lingering"))
    await asyncio.sleep(0.2)  # the drainer is woken and lingering now
    assert box.stats.pending == 1
    loop = asyncio.get_running_loop()
    t0 = loop.time()
    await box.stop()
    assert loop.time() - t0 < 4.0
    assert await call_ids(db) == ["lingering"]


async def test_a_subscribers_sink_takes_the_owners_records_in_the_same_transaction(
    db: Database, tmp_path: Path
) -> None:
    """One local record per agent-state change feeds both the ACD's log and the CMS's spans; a record that only
    changed the agent's queues is no span; a subscriber's failure parks the record for both."""
    from acd.service import STATE_KIND, AgentStateRecord, store_agent_states
    from cms.agent_states import store_acd_states

    await load_demo_data(db)
    box = Outbox(tmp_path / "outbox.sqlite3", db, timeout=3.0, linger=0.2)
    box.register(STATE_KIND, AgentStateRecord, store_agent_states)
    box.subscribe(STATE_KIND, store_acd_states)
    await box.start()
    t0 = now()
    try:
        for i, (state, changed) in enumerate([("available", True), ("available", False), ("paused", True)]):
            await box.put(
                STATE_KIND,
                AgentStateRecord(
                    event_id=f"fan.{i}",
                    extension="1001",
                    state=state,
                    reason="break" if state == "paused" else None,
                    at=t0 + timedelta(seconds=i),
                    queues=["support"] if not changed else None,
                    set_queues=not changed,
                    changed=changed,
                ),
            )
        await until(lambda: box.stats.pending == 0)
        assert box.commits == 3 and box.stats.parked == 0
        async with db.session() as s:
            logged = (
                await s.execute(text("SELECT count(*) FROM agent_state_log WHERE event_id LIKE 'fan.%'"))
            ).scalar()
            spans = (
                await s.execute(
                    text("SELECT state, ended_at - started_at FROM cms_agent_states WHERE agent = '1001' ORDER BY 1")
                )
            ).all()
        assert logged == 3
        assert spans == [("available", timedelta(seconds=2)), ("paused", None)]

        async def refuses(session: object, records: list[AgentStateRecord]) -> None:
            if any(r.event_id == "fan.bad" for r in records):
                raise ValueError("a record this subscriber cannot take")

        box.subscribe(STATE_KIND, refuses)
        await box.put(
            STATE_KIND,
            AgentStateRecord(event_id="fan.bad", extension="1001", state="available", reason=None, at=now()),
        )
        await until(lambda: box.stats.parked == 1)
        async with db.session() as s:
            assert (
                await s.execute(text("SELECT count(*) FROM agent_state_log WHERE event_id = 'fan.bad'"))
            ).scalar() == 0
    finally:
        await box.stop()
