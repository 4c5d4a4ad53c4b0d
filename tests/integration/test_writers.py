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

from cms.models import CallLeg, Interaction, QueueEvent
from cms.writers import InteractionWriter, QueueEventWriter
from cti.events import CallEnded, CallRecord, LegRecord, LegRole
from cti.model import now
from hotline.bus import EventBus
from hotline.db import Database
from hotline.demo import load_demo_data
from recordings.models import Recording
from recordings.service import RecordingCatalog


async def test_queue_events_are_batched_into_rows(db: Database) -> None:
    writer = QueueEventWriter(db)
    writer.on_event(
        {
            "Event": "QueueCallerJoin",
            "Queue": "support",
            "Uniqueid": "1.1",
            "CallerIDNum": "13800138000",
            "Position": "1",
            "Count": "1",
            "Exten": "s",
            "Context": "hotline",
        },
    )
    writer.on_event(
        {
            "Event": "AgentConnect",
            "Queue": "support",
            "Uniqueid": "1.1",
            "Interface": "PJSIP/1001",
            "HoldTime": "3",
            "RingTime": "1",
        },
    )
    await writer.flush()
    async with db.session() as s:
        rows = list((await s.execute(select(QueueEvent).order_by(QueueEvent.id))).scalars())
    assert [(r.event, r.uniqueid, r.agent) for r in rows] == [
        ("QueueCallerJoin", "1.1", None),
        ("AgentConnect", "1.1", "1001"),
    ]
    assert rows[0].data == {"CallerIDNum": "13800138000", "Position": "1", "Count": "1"}
    assert rows[1].data == {"HoldTime": "3", "RingTime": "1"}
    assert writer.written == 2


async def test_queue_events_survive_a_failed_flush(db: Database) -> None:
    broken = Database("postgresql+asyncpg://hotline@127.0.0.1:1/hotline")
    writer = QueueEventWriter(broken)
    writer.on_event({"Event": "AgentCalled", "Queue": "support", "Uniqueid": "9.9", "Interface": "PJSIP/1002"})
    try:
        await writer.flush()
    except Exception:
        pass
    else:
        raise AssertionError("flush to a closed port should fail")
    await broken.close()
    assert len(writer.pending) == 1  # kept for the next try
    writer.db = db
    await writer.flush()
    async with db.session() as s:
        assert (await s.execute(select(QueueEvent.uniqueid))).scalar_one() == "9.9"


async def test_interaction_row_written_once_per_call(db: Database) -> None:
    await load_demo_data(db)
    bus = EventBus()
    bus.subscribe(CallEnded, InteractionWriter(db).on_call_ended)
    start = now()
    leg = LegRecord(uniqueid="100.2", role=LegRole.agent, agent="1001", started_at=start + timedelta(seconds=4))
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
        legs=[leg],
    )
    bus.publish(CallEnded(record=call))
    bus.publish(CallEnded(record=call))
    await bus.drain()
    async with db.session() as s:
        rows = list((await s.execute(select(Interaction))).scalars())
    assert len(rows) == 1
    r = rows[0]
    assert (r.call_id, r.caller, r.customer_id, r.agent, r.outcome) == ("100.1", "13800138000", 1, "1001", "answered")
    assert (r.wait_seconds, r.talk_seconds, r.ivr_path, r.queue) == (2.0, 15.0, "main:0", "support")
    async with db.session() as s:
        legs = list((await s.execute(select(CallLeg))).scalars())
    assert [(leg.call_id, leg.uniqueid, leg.role, leg.agent) for leg in legs] == [("100.1", "100.2", "agent", "1001")]


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
    catalog = RecordingCatalog(db, tmp_path)
    bus.subscribe(CallEnded, catalog.on_call_ended)
    t = now()
    call = CallRecord(
        call_id="200.5", caller="1", started_at=t, answered_at=t, ended_at=t, agent="1002", outcome="answered"
    )
    path = catalog.candidates(call)[0]
    await asyncio.to_thread(_write_wav, path, 2.5)
    bus.publish(CallEnded(record=call))
    unanswered = CallRecord(call_id="200.6", caller="1", started_at=t, ended_at=t, outcome="abandoned")
    bus.publish(CallEnded(record=unanswered))
    await bus.drain(timeout=15)
    async with db.session() as s:
        recs = list((await s.execute(select(Recording))).scalars())
    assert len(recs) == 1
    rec = recs[0]
    assert rec.call_id == "200.5" and rec.agent == "1002"
    assert rec.path == str(path.relative_to(tmp_path))
    assert abs(rec.duration_seconds - 2.5) < 0.01
    assert rec.size_bytes == path.stat().st_size
    assert rec.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()


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
