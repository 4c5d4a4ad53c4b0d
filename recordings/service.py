"""Recording metadata: once a recorded call ends, describe its file (duration, size, checksum) in the database.

MixMonitor finishes writing after the hangup, so we wait for the file to stop growing; file work
(hashing, reading the WAV header) runs in a thread, never on the event loop. The metadata goes through
the durable outbox; a reconcile pass (at start and every few minutes) describes any recent file that
still has no row (its call ended while the controller was down).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import time
import wave
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from cti.events import CallEnded, CallRecord
from hotline.background import Periodic
from hotline.columns import fit_row
from hotline.db import Database
from hotline.logs import bind_call, get_logger
from hotline.outbox import Outbox
from recordings.models import Recording
from recordings.records import RecordingRecord

log = get_logger(__name__)

KIND = "recording"


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


async def store_recordings(session: AsyncSession, records: list[RecordingRecord]) -> None:
    """One row per call. Delivered twice, it lands once; what a second record knows (agent, queue, customer)
    fills what the first did not (a file found by the reconcile pass before its call's record arrived)."""
    table = Recording.__table__
    rows = list({r.call_id: fit_row(table, r.model_dump()) for r in records}.values())
    stmt = pg_insert(Recording)
    await session.execute(
        stmt.on_conflict_do_update(
            index_elements=["call_id"],
            set_={c: func.coalesce(table.c[c], stmt.excluded[c]) for c in ("agent", "queue", "customer_id")},
        ),
        rows,
    )


def _recent_files(root: Path, days: list[str], settled_before: float) -> list[Path]:
    """WAV files of those day folders that nobody has written to since ``settled_before``."""
    found: list[Path] = []
    for day in days:
        folder = root / day
        if not folder.is_dir():
            continue
        for path in folder.glob("*.wav"):
            with contextlib.suppress(FileNotFoundError):
                if path.stat().st_mtime < settled_before:
                    found.append(path)
    return found


class RecordingCatalog:
    def __init__(self, db: Database, outbox: Outbox, recordings_dir: Path, *, reconcile_every: float = 300.0) -> None:
        self.db = db
        self.outbox = outbox
        self.root = recordings_dir
        self.reconcile_every = reconcile_every
        self.settle_seconds = 30.0
        self.task = Periodic("recordings reconcile", self.reconcile, reconcile_every)
        outbox.register(KIND, RecordingRecord, store_recordings)

    def start(self) -> None:
        self.task.start()

    async def stop(self) -> None:
        await self.task.stop()

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
            await self._keep(call.call_id, path, call.agent, call.queue, call.customer_id)

    async def _keep(
        self, call_id: str, path: Path, agent: str | None, queue: str | None, customer_id: int | None
    ) -> None:
        facts = await asyncio.to_thread(describe, path)
        record = RecordingRecord(
            call_id=call_id,
            path=str(path.relative_to(self.root)),
            agent=agent,
            queue=queue,
            customer_id=customer_id,
            **facts.__dict__,
        )
        await self.outbox.put(KIND, record)
        log.info(
            "recording kept for storing",
            path=record.path,
            seconds=round(facts.duration_seconds, 1),
            size=facts.size_bytes,
        )

    async def reconcile(self) -> int:
        """Rows for recording files of the last two days that have none (their call ended while the controller
        was down, or before their metadata was kept); returns how many were kept for storing."""
        today = datetime.now().astimezone()
        days = [(today - timedelta(days=d)).strftime("%Y/%m/%d") for d in range(3)]
        files = await asyncio.to_thread(_recent_files, self.root, days, time.time() - self.settle_seconds)
        if not files:
            return 0
        by_id = {p.stem: p for p in files}
        async with self.db.session() as s:
            known = set(
                (await s.execute(select(Recording.call_id).where(Recording.call_id.in_(list(by_id))))).scalars()
            )
            missing = [i for i in by_id if i not in known]
            calls = {}
            if missing:
                calls = {
                    r.call_id: r
                    for r in await s.execute(
                        text("SELECT call_id, agent, queue, customer_id FROM interactions WHERE call_id = ANY(:ids)"),
                        {"ids": missing},
                    )
                }
        for call_id in missing:
            call = calls.get(call_id)
            with bind_call(call_id):
                await self._keep(
                    call_id,
                    by_id[call_id],
                    call.agent if call else None,
                    call.queue if call else None,
                    call.customer_id if call else None,
                )
        if missing:
            log.info("recordings reconciled", found=len(missing))
        return len(missing)
