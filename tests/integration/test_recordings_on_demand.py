"""On-demand recordings over the real database, sox and opusenc: the dialplan's provisional file is deleted
when nobody asked to record, and cut to the desk's "record" (in file time, holds excluded) when they did."""

from __future__ import annotations

import asyncio
import math
import os
import struct
import subprocess
import time
import wave
from pathlib import Path

from sqlalchemy import select

from cti.events import CallEnded, CallRecord
from cti.model import now
from hotline.bus import EventBus
from hotline.db import Database
from hotline.outbox import Outbox
from recordings.live import LiveRecordings
from recordings.models import Recording
from recordings.policy import RecordingsConfig
from recordings.service import RecordingCatalog, provisional_path
from tests.integration.test_writers import drained
from tests.unit.test_recordings_live import Ami, Clock, provisional

CONFIG = RecordingsConfig.model_validate({"queues": {"support": {"policy": "on_demand"}}})
RATE = 8000


def _write_call(path: Path, silent: float, spoken: float) -> None:
    """A provisional recording: ``silent`` seconds of silence, then ``spoken`` seconds of a loud tone."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(b"\0\0" * int(RATE * silent))
        w.writeframes(b"".join(struct.pack("<h", int(8000 * math.sin(i / 5))) for i in range(int(RATE * spoken))))


def _decoded(opus: Path) -> tuple[float, float]:
    """The Ogg/Opus file as heard: its length in seconds, and the mean level of its first half second."""
    wav = opus.with_suffix(".decoded.wav")
    subprocess.run(["opusdec", "--quiet", "--rate", str(RATE), str(opus), str(wav)], check=True)
    with wave.open(str(wav)) as w:
        seconds = w.getnframes() / w.getframerate()
        head = w.readframes(RATE // 2)
        channels = w.getnchannels()
    samples = struct.unpack(f"<{len(head) // 2}h", head)[::channels]
    wav.unlink()
    return seconds, sum(abs(s) for s in samples) / max(1, len(samples))


def _call(call_id: str) -> CallRecord:
    t = now()
    return CallRecord(
        call_id=call_id, started_at=t, answered_at=t, ended_at=t, agent="1001", queue="support", outcome="answered"
    )


def _connect(live: LiveRecordings, call_id: str, channel: str) -> None:
    live.on_AgentConnect({"Linkedid": call_id, "Channel": channel, "Queue": "support", "Interface": "PJSIP/1001"})


async def test_an_on_demand_call_is_deleted_unless_asked_and_cut_to_the_desks_start(
    db: Database, tmp_path: Path
) -> None:
    bus, outbox = EventBus(), Outbox(tmp_path / "outbox.sqlite3", db)
    ami, clock = Ami(), Clock()
    provisional(ami)
    live = LiveRecordings(ami, CONFIG, clock)
    catalog = RecordingCatalog(db, outbox, tmp_path / "rec", CONFIG, live)
    bus.subscribe(CallEnded, catalog.on_call_ended)
    await outbox.start()

    # nobody asks: the provisional file goes, no row is stored
    unasked = _call("od.1")
    folder = catalog.candidates(unasked)[0].parent
    await asyncio.to_thread(_write_call, provisional_path(catalog.candidates(unasked)[0]), 3.0, 3.0)
    _connect(live, "od.1", "PJSIP/c-1")
    clock.now = 106.0
    live.on_Hangup({"Linkedid": "od.1", "Channel": "PJSIP/c-1"})
    bus.publish(CallEnded(record=unasked))
    await bus.drain(timeout=30)
    assert not list(folder.glob("od.1*"))

    # asked 4 s into the file (2 s bridged, 8 s on hold: not in the file, 2 s bridged again), paused 2 s later
    asked = _call("od.2")
    await asyncio.to_thread(_write_call, provisional_path(catalog.candidates(asked)[0]), 4.0, 6.0)
    clock.now = 200.0
    _connect(live, "od.2", "PJSIP/c-2")
    clock.now = 202.0
    live.on_BridgeLeave({"Linkedid": "od.2", "Channel": "PJSIP/c-2"})
    clock.now = 210.0
    live.on_BridgeEnter({"Linkedid": "od.2", "Channel": "PJSIP/c-2"})
    clock.now = 212.0
    assert (await live.start("1001")).recording
    clock.now = 214.0
    await live.pause("1001")
    clock.now = 215.0
    await live.resume("1001")
    clock.now = 218.0
    live.on_Hangup({"Linkedid": "od.2", "Channel": "PJSIP/c-2"})
    bus.publish(CallEnded(record=asked))
    await bus.drain(timeout=30)
    await drained(outbox)
    await outbox.stop()

    assert sorted(p.name for p in folder.glob("od.*")) == ["od.2.opus"]  # no provisional, no WAV left
    async with db.session() as s:
        rows = list((await s.execute(select(Recording))).scalars())
    assert [(r.call_id, r.policy, r.format, r.path) for r in rows] == [
        ("od.2", "on_demand", "opus", str((folder / "od.2.opus").relative_to(tmp_path / "rec")))
    ]
    assert rows[0].pauses == [{"start": 2.0, "end": 3.0, "by": "1001"}]
    assert abs(rows[0].duration_seconds - 6.0) <= 0.3
    seconds, head_level = await asyncio.to_thread(_decoded, folder / "od.2.opus")
    print(f"kept {seconds:.2f} s, first half second's mean level {head_level:.0f}")
    assert abs(seconds - 6.0) <= 0.3
    assert head_level > 1000  # it starts with the tone: the 4 s of silence before "record" were cut


async def test_the_reconcile_pass_never_keeps_a_provisional_file(db: Database, tmp_path: Path) -> None:
    outbox = Outbox(tmp_path / "outbox.sqlite3", db)
    ami, clock = Ami(), Clock()
    live = LiveRecordings(ami, CONFIG, clock)
    catalog = RecordingCatalog(db, outbox, tmp_path / "rec", CONFIG, live)
    await outbox.start()
    ended, ongoing, fresh = _call("od.7"), _call("od.8"), _call("od.9")
    paths = [provisional_path(catalog.candidates(c)[0]) for c in (ended, ongoing, fresh)]
    for path in paths:
        await asyncio.to_thread(_write_call, path, 1.0, 1.0)
    two_hours_ago = time.time() - 7200
    for path in paths[:2]:
        os.utime(path, (two_hours_ago, two_hours_ago))  # not written for two hours (a long hold, or ended)
    _connect(live, "od.8", "PJSIP/c-8")  # still on the phone
    assert await catalog.reconcile() == 0
    await drained(outbox)
    await outbox.stop()
    assert [p.exists() for p in paths] == [False, True, True]  # only the unclaimed, ended call's file goes
    assert not list(paths[0].parent.glob("*.opus"))
    async with db.session() as s:
        assert list((await s.execute(select(Recording))).scalars()) == []
