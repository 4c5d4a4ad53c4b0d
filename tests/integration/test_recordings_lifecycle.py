"""Recordings over the real database: policy at the call's end (with the desk's pauses), the desk's
controls, retention that keeps the audit, transcript search (scoped), the RECORDINGS service, and an
offline transcription of a known prompt."""

from __future__ import annotations

import asyncio
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select, update

from cti.events import CallEnded, CallRecord, LegRecord, LegRole
from cti.model import now
from hotline.bus import EventBus
from hotline.db import Database
from hotline.outbox import Outbox
from recordings.interface import RECORDINGS
from recordings.live import LiveRecordings
from recordings.models import Recording, RecordingAccess
from recordings.policy import RecordingsConfig, Transcription
from recordings.retention import Retention
from recordings.service import RecordingCatalog
from recordings.transcription import Transcriber, run_asr
from tests.integration.appkit import app_kit
from tests.integration.test_writers import _write_wav, drained
from tests.unit.test_recordings_live import Ami

CONFIG = RecordingsConfig.model_validate(
    {
        "default": {"retention_days": 30},
        "queues": {"support": {"policy": "all", "retention_days": 10}, "quiet": {"policy": "none"}},
    }
)


async def test_the_call_end_keeps_pauses_legs_and_policy_and_skips_unrecorded_queues(
    db: Database, tmp_path: Path
) -> None:
    bus, outbox = EventBus(), Outbox(tmp_path / "outbox.sqlite3", db)
    ami = Ami()
    ami.vars["HOTLINE_MIXMON_ID"] = "0x1"
    clock = [100.0]
    live = LiveRecordings(ami, CONFIG, lambda: clock[0])
    catalog = RecordingCatalog(db, outbox, tmp_path / "rec", CONFIG, live)
    bus.subscribe(CallEnded, catalog.on_call_ended)
    await outbox.start()
    t = now()
    live.on_AgentConnect({"Linkedid": "7.1", "Channel": "PJSIP/c-1", "Queue": "support", "Interface": "PJSIP/1001"})
    clock[0] = 104.0
    await live.pause("1001")
    clock[0] = 109.0
    await live.resume("1001")
    legs = [
        LegRecord(uniqueid="7.1", channel="PJSIP/c-1", role=LegRole.caller, started_at=t),
        LegRecord(uniqueid="7.2", channel="PJSIP/1001-1", role=LegRole.agent, agent="1001", started_at=t),
    ]
    call = CallRecord(
        call_id="7.1", started_at=t, answered_at=t, ended_at=t, agent="1001", queue="support", outcome="x", legs=legs
    )
    await asyncio.to_thread(_write_wav, catalog.candidates(call)[0], 1.0)
    quiet = CallRecord(call_id="7.9", started_at=t, answered_at=t, ended_at=t, queue="quiet", outcome="x")
    started = asyncio.get_running_loop().time()
    bus.publish(CallEnded(record=quiet))
    await bus.drain(timeout=15)
    assert asyncio.get_running_loop().time() - started < 2  # no file is waited for in a queue never recorded
    bus.publish(CallEnded(record=call))
    await bus.drain(timeout=15)
    await drained(outbox)
    await outbox.stop()
    async with db.session() as s:
        rows = list((await s.execute(select(Recording))).scalars())
    assert [r.call_id for r in rows] == ["7.1"]
    rec = rows[0]
    assert (rec.format, rec.policy, rec.transcript_state) == ("opus", "all", "pending")
    assert rec.pauses == [{"start": 4.0, "end": 9.0, "by": "1001"}]
    assert [(leg["uniqueid"], leg["role"], leg.get("agent")) for leg in rec.legs] == [
        ("7.1", "caller", None),
        ("7.2", "agent", "1001"),
    ]


async def test_the_desk_controls_act_on_the_agents_own_call_and_are_audited(
    db: Database, pg_url: str, tmp_path: Path
) -> None:
    async with app_kit(pg_url, tmp_path) as kit:
        plugin = kit.controller.plugin("recordings")
        ami = Ami()
        ami.vars["HOTLINE_MIXMON_ID"] = "0x1"
        plugin.live.ami = ami  # type: ignore[attr-defined]
        plugin.live.on_AgentConnect(  # type: ignore[attr-defined]
            {"Linkedid": "8.1", "Channel": "PJSIP/c-8", "Queue": "support", "Interface": "PJSIP/1001"}
        )
        mine, other = await kit.login("1001"), await kit.login("1002")
        assert (await kit.client.post("/api/calls/me/recording/pause", headers=other)).status_code == 404
        r = await kit.client.post("/api/calls/me/recording/pause", headers=mine)
        assert r.status_code == 200 and r.json()["paused"] is True, r.text
        assert ami.actions[-1] == {"Action": "MixMonitorMute", "Channel": "PJSIP/c-8", "Direction": "both", "State": 1}
        assert (await kit.client.post("/api/calls/me/recording/pause", headers=mine)).status_code == 409
        r = await kit.client.post("/api/calls/me/recording/resume", headers=mine)
        assert r.json()["paused"] is False and len(r.json()["pauses"]) == 1
        async with db.session() as s:
            audit = (
                await s.execute(select(RecordingAccess.call_id, RecordingAccess.username, RecordingAccess.action))
            ).all()
        assert [tuple(a) for a in audit] == [("8.1", "1001", "pause"), ("8.1", "1001", "resume")]


async def test_retention_deletes_files_marks_rows_and_keeps_the_audit(
    db: Database, pg_url: str, tmp_path: Path
) -> None:
    async with app_kit(pg_url, tmp_path) as kit:  # recordings 1 (c1, support), 2 (c2, support), 3 (c3, billing)
        admin, agent = await kit.login("demo-admin"), await kit.login("1001")
        assert (await kit.client.get("/api/recordings/1/audio", headers=agent)).status_code == 200
        today = datetime.now(UTC)
        async with db.session() as s:
            for rid, age in ((1, 15), (2, 5), (3, 15)):
                await s.execute(update(Recording).where(Recording.id == rid).values(created_at=today - timedelta(age)))
            await s.commit()
        retention = Retention(db, kit.recordings, CONFIG, clock=lambda: today)
        assert await retention.purge() == 1  # support keeps 10 days; billing the default 30
        assert await retention.purge() == 0
        assert not (kit.recordings / "2026/11/24/c1.wav").exists()
        assert (kit.recordings / "2026/11/24/c2.wav").exists() and (kit.recordings / "2026/11/24/c3.wav").exists()
        async with db.session() as s:
            purged = {r.id: r.purged_at for r in (await s.execute(select(Recording))).scalars()}
            audit = (
                await s.execute(
                    select(RecordingAccess.recording_id, RecordingAccess.username, RecordingAccess.action).order_by(
                        RecordingAccess.id
                    )
                )
            ).all()
        assert purged == {1: today, 2: None, 3: None}
        assert [tuple(a) for a in audit] == [(1, "1001", "play"), (1, "retention", "purge")]
        r = await kit.client.get("/api/recordings/1/audio", headers=agent)
        assert r.status_code == 404 and "retention" in r.json()["message"]
        listed = await kit.client.get("/api/recordings", headers=admin)
        assert [x["id"] for x in listed.json()] == [3, 2]
        listed = await kit.client.get("/api/recordings", headers=admin, params={"purged": "true"})
        assert [x["id"] for x in listed.json()] == [3, 2, 1]
        service = kit.controller.core.services.get(RECORDINGS)
        calls = await service.recorded_calls(today - timedelta(days=30), today)
        assert [c.call_id for c in calls] == ["c3", "c2"]  # still on disk, oldest first (same age: by id)
        assert [c.call_id for c in await service.recorded_calls(today - timedelta(days=30), today, "1002")] == [
            "c3",
            "c2",
        ]
        assert (await service.get(1)) is not None and (await service.get(99)) is None
        kit.controller.plugin("recordings").retention = retention  # type: ignore[attr-defined]
        usage = (await kit.client.get("/api/recordings/usage", headers=admin)).json()
        assert (usage["files"], usage["bytes"], usage["purged"]) == (2, 20, 1)
        assert usage["by_queue"] == {"billing": 10, "support": 10} and usage["disk_free_bytes"] > 0


async def test_transcripts_are_searchable_within_what_each_user_may_hear(
    db: Database, pg_url: str, tmp_path: Path
) -> None:
    async with app_kit(pg_url, tmp_path) as kit:
        texts = {
            1: "i would like to track my parcel please",
            2: "my parcel arrived damaged",
            3: "change the delivery address",
        }
        async with db.session() as s:
            for rid, text in texts.items():
                await s.execute(
                    update(Recording).where(Recording.id == rid).values(transcript=text, transcript_state="done")
                )
            await s.commit()
        admin, agent, sup = [await kit.login(u) for u in ("demo-admin", "1001", "demo-supervisor")]
        hits = (await kit.client.get("/api/recordings/search", params={"q": "parcel"}, headers=admin)).json()
        assert sorted(h["id"] for h in hits) == [1, 2] and all("«parcel»" in h["snippet"] for h in hits)
        hits = (await kit.client.get("/api/recordings/search", params={"q": "parcel"}, headers=agent)).json()
        assert [h["id"] for h in hits] == [1]  # 1001 hears only their own
        hits = (await kit.client.get("/api/recordings/search", params={"q": "delivery address"}, headers=sup)).json()
        assert hits == []  # recording 3 is in billing, not demo-supervisor's queue
        hits = (await kit.client.get("/api/recordings/search", params={"q": "parcel damaged"}, headers=sup)).json()
        assert [h["id"] for h in hits] == [2]  # every word required
        listed = await kit.client.get("/api/recordings", params={"q": "parcel", "agent": "1002"}, headers=admin)
        assert [x["id"] for x in listed.json()] == [2]


PROMPT = "I would like to track my parcel please, it has not been delivered"


def _prompt_as_a_call(folder: Path) -> Path:
    """The prompt as a call leaves it: espeak-ng, telephone rate (8 kHz), encoded to Ogg/Opus."""
    wide, narrow, opus = folder / "p22.wav", folder / "p8.wav", folder / "p8.opus"
    subprocess.run(["espeak-ng", "-w", str(wide), PROMPT], check=True)
    subprocess.run(
        ["sox", "-D", str(wide), "-r", "8000", "-c", "1", "-b", "16", "-e", "signed-integer", str(narrow)], check=True
    )
    subprocess.run(["opusenc", "--quiet", "--bitrate", "16", str(narrow), str(opus)], check=True)
    return opus


def word_recall(reference: str, hypothesis: str) -> float:
    """Share of the reference's words found in order (longest common subsequence of words)."""
    ref, hyp = reference.lower().replace(",", "").split(), hypothesis.lower().split()
    table = [[0] * (len(hyp) + 1) for _ in range(len(ref) + 1)]
    for i, r in enumerate(ref):
        for j, h in enumerate(hyp):
            table[i + 1][j + 1] = table[i][j] + 1 if r == h else max(table[i][j + 1], table[i + 1][j])
    return table[-1][-1] / len(ref)


async def test_a_known_prompt_is_transcribed_offline_and_stored(db: Database, tmp_path: Path) -> None:
    opus = await asyncio.to_thread(_prompt_as_a_call, tmp_path)
    text = await run_asr(opus, Transcription(language="en"))
    recall = word_recall(PROMPT, text)
    print(f"transcript: {text!r}; words recalled {recall:.0%}")
    assert recall >= 0.3 and "would like" in text  # espeak through an 8 kHz Opus call: a weak, honest figure
    async with db.session() as s:
        s.add_all(
            [
                Recording(call_id="t.1", path=opus.name, duration_seconds=4, size_bytes=1, sha256="x", format="opus"),
                Recording(call_id="t.2", path="missing.opus", duration_seconds=1, size_bytes=1, sha256="y"),
            ]
        )
        await s.commit()
    transcriber = Transcriber(db, tmp_path, Transcription(language="en"))
    try:
        assert await transcriber.drain(limit=1) == 1  # at most the limit a run, the rest on the next
        assert await transcriber.drain() == 1 and await transcriber.drain() == 0
    finally:
        await transcriber.stop()
    async with db.session() as s:
        rows = {r.call_id: r for r in (await s.execute(select(Recording))).scalars()}
        found = (
            await s.execute(
                select(Recording.call_id).where(
                    Recording.transcript_tsv.op("@@")(select_query("would like"))  # the stored tsvector
                )
            )
        ).scalars()
        assert list(found) == ["t.1"]
    assert (rows["t.1"].transcript_state, rows["t.1"].transcript, rows["t.1"].transcript_language) == (
        "done",
        text,
        "en",
    )
    assert rows["t.2"].transcript_state == "failed" and rows["t.2"].transcript is None
    assert (transcriber.done, transcriber.failed) == (1, 1)


def select_query(words: str) -> object:
    from recordings.queries import ts_query

    return ts_query(words)
