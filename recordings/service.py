"""Recording metadata: once a recorded call ends, describe its file (duration, size, checksum) in the database.

MixMonitor finishes writing after the hangup, so we wait for the file to stop growing; file work
(hashing, reading the WAV header) runs in a thread, never on the event loop.
"""

from __future__ import annotations

import asyncio
import hashlib
import wave
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.dialects.postgresql import insert as pg_insert

from cti.events import CallEnded, CallRecord
from hotline.db import Database
from hotline.logs import bind_call, get_logger
from hotline.retry import with_retries
from recordings.models import Recording

log = get_logger(__name__)


@dataclass
class FileFacts:
    duration_seconds: float
    size_bytes: int
    sha256: str


def describe(path: Path) -> FileFacts:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    try:
        with wave.open(str(path)) as w:
            duration = w.getnframes() / float(w.getframerate() or 1)
    except (wave.Error, EOFError):
        duration = 0.0
    return FileFacts(duration, path.stat().st_size, digest.hexdigest())


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return -1


async def wait_until_stable(path: Path, timeout: float = 10.0, interval: float = 0.2) -> bool:
    """True once the file exists and its size held still for two checks."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    last = -1
    while loop.time() < deadline:
        size = await asyncio.to_thread(_size, path)
        if size >= 0 and size == last:
            return True
        last = size
        await asyncio.sleep(interval)
    return await asyncio.to_thread(_size, path) >= 0


class RecordingCatalog:
    def __init__(self, db: Database, recordings_dir: Path) -> None:
        self.db = db
        self.root = recordings_dir

    def candidates(self, call: CallRecord) -> list[Path]:
        """Where the dialplan put it: <root>/<Y/m/d of the call's start, Asterisk's local time>/<uniqueid>.wav
        (the end date too, for a call that was set up across midnight)."""
        days = dict.fromkeys(t.astimezone().strftime("%Y/%m/%d") for t in (call.started_at, call.ended_at) if t)
        return [self.root / day / f"{call.call_id}.wav" for day in days]

    async def on_call_ended(self, e: CallEnded) -> None:
        call = e.record
        if call.answered_at is None:
            return
        with bind_call(call.call_id):
            candidates = self.candidates(call)
            path = await asyncio.to_thread(lambda: next((p for p in candidates if p.exists()), candidates[0]))
            if not await wait_until_stable(path):
                log.error("answered call has no recording file", expected=[str(p) for p in candidates])
                return
            facts = await asyncio.to_thread(describe, path)
            row = {
                "call_id": call.call_id,
                "queue": call.queue,
                "path": str(path.relative_to(self.root)),
                "agent": call.agent,
                "customer_id": call.customer_id,
                **facts.__dict__,
            }

            async def store() -> None:
                async with self.db.session() as s:
                    await s.execute(
                        pg_insert(Recording).values(**row).on_conflict_do_nothing(index_elements=["call_id"])
                    )
                    await s.commit()

            await with_retries("store recording metadata", store)
            log.info(
                "recording stored", path=row["path"], seconds=round(facts.duration_seconds, 1), size=facts.size_bytes
            )
