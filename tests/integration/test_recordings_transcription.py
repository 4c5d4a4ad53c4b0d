"""The persistent transcription worker over the real database: one process serves recording after recording;
a recording past the time limit kills it (and its decoder's children) and fails alone, the next one is
transcribed by a new worker; the plugin's stop leaves no process behind."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

from sqlalchemy import select

from hotline.db import Database
from recordings.asr_worker import AsrWorker, TranscriptionError
from recordings.models import Recording
from recordings.policy import Transcription
from recordings.transcription import Transcriber
from tests.integration.test_recordings_lifecycle import PROMPT, _prompt_as_a_call, word_recall


def group_members(pgid: int) -> list[int]:
    """Live processes in a process group (field 5 of /proc/<pid>/stat); zombies excluded."""
    members = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if fields[0] != "Z" and int(fields[2]) == pgid:
                members.append(int(entry.name))
    return members


def alive(pid: int) -> bool:
    return pid in group_members(pid)


async def test_one_worker_process_transcribes_recordings_in_a_row(tmp_path: Path) -> None:
    first = await asyncio.to_thread(_prompt_as_a_call, tmp_path)
    second = tmp_path / "again.opus"
    second.write_bytes(first.read_bytes())
    worker = AsrWorker(Transcription(language="en"))
    try:
        text = await worker.transcribe(first)
        pid = worker.pid
        again = await worker.transcribe(second)
        assert pid is not None and worker.pid == pid and worker.started == 1
        assert again == text and word_recall(PROMPT, text) >= 0.3
        try:
            await worker.transcribe(tmp_path / "missing.opus")
            raise AssertionError("a missing file was transcribed")
        except TranscriptionError as e:
            assert "exit" in str(e)  # the worker's own answer: opusdec failed
        assert worker.pid == pid  # a bad recording does not cost the worker
    finally:
        await worker.stop()
    assert worker.pid is None and not alive(pid)


async def test_a_recording_past_the_limit_fails_alone_and_the_next_gets_a_new_worker(
    db: Database, tmp_path: Path
) -> None:
    opus = await asyncio.to_thread(_prompt_as_a_call, tmp_path)
    os.mkfifo(tmp_path / "stuck.wav")  # nobody writes: the worker's sox waits on it forever
    async with db.session() as s:
        s.add_all(
            [
                Recording(call_id="t.1", path="stuck.wav", duration_seconds=4, size_bytes=1, sha256="x"),
                Recording(call_id="t.2", path=opus.name, duration_seconds=4, size_bytes=1, sha256="y", format="opus"),
            ]
        )
        await s.commit()
    transcriber = Transcriber(db, tmp_path, Transcription(language="en", timeout_s=8))
    spawned: list[int] = []
    spawn = transcriber.worker._spawn

    async def remember() -> asyncio.subprocess.Process:
        proc = await spawn()
        spawned.append(proc.pid)
        return proc

    transcriber.worker._spawn = remember  # type: ignore[method-assign]
    try:
        assert await transcriber.drain() == 2
        assert len(spawned) == 2 and transcriber.worker.pid == spawned[1]  # killed at the limit, then a new one
        assert group_members(spawned[0]) == []  # the stuck sox went with its worker
        async with db.session() as s:
            rows = {r.call_id: r for r in (await s.execute(select(Recording))).scalars()}
        assert rows["t.1"].transcript_state == "failed" and rows["t.1"].transcript is None
        assert rows["t.2"].transcript_state == "done" and "would like" in (rows["t.2"].transcript or "")
        assert (transcriber.done, transcriber.failed) == (1, 1)
    finally:
        await transcriber.stop()
    assert group_members(spawned[1]) == []


async def test_the_plugin_stop_leaves_no_worker_behind(db: Database, tmp_path: Path) -> None:
    opus = await asyncio.to_thread(_prompt_as_a_call, tmp_path)
    async with db.session() as s:
        s.add(Recording(call_id="t.1", path=opus.name, duration_seconds=4, size_bytes=1, sha256="x", format="opus"))
        await s.commit()
    transcriber = Transcriber(db, tmp_path, Transcription(language="en", every_s=3600))
    transcriber.start()
    for _ in range(300):  # the first run of the periodic job starts the worker and transcribes
        if transcriber.done:
            break
        await asyncio.sleep(0.1)
    pid = transcriber.worker.pid
    assert transcriber.done == 1 and pid is not None and alive(pid)
    await transcriber.stop()
    assert transcriber.worker.pid is None and group_members(pid) == []
