"""Background transcription: one recording at a time, oldest pending first, through one persistent niced
worker process (``recordings.asr --serve``, see asr_worker) with a time limit per recording, so a live call
never waits for a decoder and the decoders are loaded once, not per recording. The transcript is
stored on the recording's row; PostgreSQL keeps its ``tsvector`` for the keyword search."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import bindparam, select, update

from hotline.background import Periodic
from hotline.db import Database
from hotline.logs import get_logger
from recordings.asr_worker import AsrWorker, TranscriptionError
from recordings.models import Recording
from recordings.policy import Transcription

log = get_logger(__name__)

PENDING, DONE, FAILED = "pending", "done", "failed"


async def run_asr(path: Path, settings: Transcription) -> str:
    """One recording through the single-file command line (its own process, decoder loaded for it alone)."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "recordings.asr",
        "--language",
        settings.language,
        "--nice",
        str(settings.nice),
        str(path),
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        out, err = await asyncio.wait_for(proc.communicate(), settings.timeout_s)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        raise TranscriptionError(f"longer than {settings.timeout_s:.0f} s") from None
    if proc.returncode != 0:
        tail = err.decode(errors="replace").strip().splitlines()[-1:] or ["no output"]
        raise TranscriptionError(f"exit {proc.returncode}: {tail[0]}")
    try:
        return str(json.loads(out)["text"])
    except (ValueError, KeyError) as e:
        raise TranscriptionError(f"unreadable output: {out[:200]!r}") from e


_PENDING = (
    select(Recording.id, Recording.path)
    .where(Recording.transcript_state == PENDING, Recording.purged_at.is_(None))
    .order_by(Recording.id)
    .limit(bindparam("limit"))
)


class Transcriber:
    def __init__(
        self,
        db: Database,
        root: Path,
        settings: Transcription,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.db = db
        self.root = root
        self.settings = settings
        self.clock = clock
        self.done = 0
        self.failed = 0
        self.worker = AsrWorker(settings)
        self.task = Periodic("recordings transcription", self.drain, settings.every_s)

    def start(self) -> None:
        if self.settings.enabled:
            self.task.start()

    async def stop(self) -> None:
        await self.task.stop()  # a recording in progress is cancelled (its worker killed; it stays pending)
        await self.worker.stop()

    async def drain(self, limit: int = 50) -> int:
        """Transcribe pending recordings one after the other (at most ``limit`` a run); how many were done.
        The pending ones are listed once for the run, not once per recording: under traffic a run finds a
        recording per call, and a read per recording was a database transaction per call for nothing."""
        count = 0
        while count < limit:
            want = limit - count
            batch = await self._pending(want)
            for recording, path in batch:
                await self._transcribe(recording, path)
                count += 1
            if len(batch) < want:  # every pending one was in the list
                break
        return count

    async def _pending(self, limit: int) -> list[tuple[int, str]]:
        """The oldest pending recordings still on disk."""
        async with self.db.read() as s:
            return [(r.id, r.path) for r in await s.execute(_PENDING, {"limit": limit})]

    async def _transcribe(self, recording: int, path: str) -> None:
        values: dict[str, object]
        try:
            text = await self.worker.transcribe(self.root / path)
            values = {"transcript": text, "transcript_state": DONE}
            self.done += 1
        except (TranscriptionError, OSError) as e:
            log.warning("recording not transcribed", recording=recording, error=str(e))
            values = {"transcript_state": FAILED}
            self.failed += 1
        async with self.db.session() as s:
            await s.execute(
                update(Recording)
                .where(Recording.id == recording)
                .values(**values, transcript_language=self.settings.language, transcribed_at=self.clock())
            )
            await s.commit()
