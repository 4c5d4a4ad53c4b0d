"""CMS and recording writers against the real database."""

from __future__ import annotations

import asyncio
import hashlib
import math
import struct
import wave
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select

from cms.models import CallLeg, Interaction
from cms.writers import InteractionWriter
from cti.events import CallEnded, CallRecord, LegRecord, LegRole
from cti.model import now
from hotline.bus import EventBus
from hotline.db import Database
from hotline.demo import load_demo_data
from hotline.outbox import Outbox
from recordings.models import Recording
from recordings.service import RecordingCatalog
from tests.integration.waiting import until


async def drained(outbox: Outbox) -> None:
    await until(lambda: outbox.stats.pending == 0)


async def test_interaction_row_written_once_per_call(db: Database, tmp_path: Path) -> None:
    await load_demo_data(db)
    bus = EventBus()
    outbox = Outbox(tmp_path / "outbox.sqlite3", db)
    bus.subscribe(CallEnded, InteractionWriter(outbox).on_call_ended)
    await outbox.start()
    start = now()
    caller_leg = LegRecord(
        uniqueid="100.1", role=LegRole.caller, started_at=start, ended_at=start + timedelta(seconds=20)
    )
    agent_leg = LegRecord(uniqueid="100.2", role=LegRole.agent, agent="1001", started_at=start + timedelta(seconds=4))
    call = CallRecord(
        call_id="100.1",
        caller="13800138000",
        started_at=start,
        customer_id=1,
        ivr_path="main:0",
        intent="agent",
        queue="support",
        queued_at=start + timedelta(seconds=3),
        answered_at=start + timedelta(seconds=5),
        agent="1001",
        ended_at=start + timedelta(seconds=20),
        wait_seconds=2.0,
        talk_seconds=15.0,
        outcome="answered",
        legs=[caller_leg, agent_leg],
    )
    bus.publish(CallEnded(record=call))
    bus.publish(CallEnded(record=call))
    await bus.drain()
    await drained(outbox)
    await outbox.stop()
    async with db.session() as s:
        rows = list((await s.execute(select(Interaction))).scalars())
        legs = list((await s.execute(select(CallLeg))).scalars())
    assert sorted((leg.call_id, leg.uniqueid, leg.role, leg.agent) for leg in legs) == [
        ("100.1", "100.1", "caller", None),
        ("100.1", "100.2", "agent", "1001"),
    ]
    assert len(rows) == 1
    r = rows[0]
    assert (r.call_id, r.caller, r.customer_id, r.agent, r.outcome) == ("100.1", "13800138000", 1, "1001", "answered")
    assert (r.wait_seconds, r.talk_seconds, r.ivr_path, r.queue) == (2.0, 15.0, "main:0", "support")


def _write_wav(path: Path, seconds: float) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        frames = b"".join(struct.pack("<h", int(8000 * math.sin(i / 5))) for i in range(int(8000 * seconds)))
        w.writeframes(frames)


async def test_recording_metadata_describes_the_file(db: Database, tmp_path: Path) -> None:
    bus = EventBus()
    outbox = Outbox(tmp_path / "outbox.sqlite3", db)
    catalog = RecordingCatalog(db, outbox, tmp_path / "rec")
    bus.subscribe(CallEnded, catalog.on_call_ended)
    await outbox.start()
    t = now()
    call = CallRecord(call_id="200.5", caller="1", started_at=t, answered_at=t, ended_at=t, agent="1002", outcome="x")
    path = catalog.candidates(call)[0]
    await asyncio.to_thread(_write_wav, path, 2.5)
    bus.publish(CallEnded(record=call))
    unanswered = CallRecord(call_id="200.6", caller="1", started_at=t, ended_at=t, outcome="abandoned")
    bus.publish(CallEnded(record=unanswered))
    await bus.drain(timeout=15)
    await drained(outbox)
    await outbox.stop()
    async with db.session() as s:
        recs = list((await s.execute(select(Recording))).scalars())
    assert len(recs) == 1
    rec = recs[0]
    assert rec.call_id == "200.5" and rec.agent == "1002"
    opus = path.with_suffix(".opus")  # one compressed file per call (opusenc), the WAV gone
    assert rec.path == str(opus.relative_to(tmp_path / "rec")) and rec.format == "opus"
    assert not path.exists() and opus.read_bytes()[:4] == b"OggS" and b"OpusHead" in opus.read_bytes()[:64]
    assert abs(rec.duration_seconds - 2.5) < 0.01
    assert rec.size_bytes == opus.stat().st_size < 2.5 * 16000 * 2 / 5  # under a fifth of the WAV
    assert rec.sha256 == hashlib.sha256(opus.read_bytes()).hexdigest()
    assert not (path.parent / "200.6.wav").exists()


async def test_recent_contacts_newest_first_and_only_the_customers(db: Database) -> None:
    from cms.history import InteractionHistory

    await load_demo_data(db)
    start = now()
    async with db.session() as s:
        for i, (customer, outcome) in enumerate(
            [(1, "answered"), (2, "answered"), (1, "voicemail"), (1, "abandoned"), (1, "answered")]
        ):
            s.add(
                Interaction(
                    call_id=f"h.{i}",
                    caller="x",
                    customer_id=customer,
                    outcome=outcome,
                    agent="1001",
                    started_at=start - timedelta(days=5 - i),
                )
            )
        await s.commit()
    recent = await InteractionHistory(db).recent(1)
    assert [r["outcome"] for r in recent] == ["answered", "abandoned", "voicemail"]
    assert await InteractionHistory(db).recent(3) == []


async def test_reconcile_describes_recent_files_that_have_no_row(db: Database, tmp_path: Path) -> None:
    await load_demo_data(db)
    root = tmp_path / "rec"
    outbox = Outbox(tmp_path / "outbox.sqlite3", db)
    catalog = RecordingCatalog(db, outbox, root)
    catalog.settle_seconds = 0.5
    await outbox.start()
    day = now().astimezone().strftime("%Y/%m/%d")
    old_day = (now() - timedelta(days=5)).astimezone().strftime("%Y/%m/%d")
    for name in ("300.1", "300.2"):
        await asyncio.to_thread(_write_wav, root / day / f"{name}.wav", 0.5)
    await asyncio.to_thread(_write_wav, root / old_day / "300.9.wav", 0.5)  # too old to look at
    async with db.session() as s:
        s.add(
            Interaction(
                call_id="300.1", outcome="answered", agent="1003", queue="support", customer_id=2, started_at=now()
            )
        )
        s.add(Recording(call_id="300.2", path=f"{day}/300.2.wav", duration_seconds=0.5, size_bytes=1, sha256="x"))
        await s.commit()
    await asyncio.sleep(0.6)
    assert await catalog.reconcile() == 1  # 300.2 already has its row
    await drained(outbox)
    assert await catalog.reconcile() == 0
    await outbox.stop()
    async with db.session() as s:
        rec = (await s.execute(select(Recording).where(Recording.call_id == "300.1"))).scalar_one()
    assert (rec.agent, rec.queue, rec.customer_id, rec.path) == ("1003", "support", 2, f"{day}/300.1.opus")
    assert not (root / day / "300.1.wav").exists() and (root / day / "300.2.wav").exists()  # 300.2's row: a WAV
    assert abs(rec.duration_seconds - 0.5) < 0.01
