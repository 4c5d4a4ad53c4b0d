"""Retention: a recording's file is deleted once its queue's retention has run (recordings.yaml); the row
stays, marked ``purged_at``, and so does every audit row (the purge itself is audited as ``purge``).
Disk usage (what the kept files weigh, by queue, and the disk's free space) is measured on each run and
on demand."""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from pydantic import BaseModel
from sqlalchemy import func, select, update

from hotline.db import Database
from hotline.logs import get_logger
from recordings.models import Recording, RecordingAccess
from recordings.policy import RecordingsConfig

log = get_logger(__name__)

BATCH = 500
PURGER = "retention"  # the audit row's username for a purge


class DiskUsage(BaseModel):
    files: int
    bytes: int
    by_queue: dict[str, int]  # bytes of the kept files by queue ("" = no queue)
    purged: int  # rows whose file retention deleted
    disk_total_bytes: int
    disk_free_bytes: int
    measured_at: datetime


def _remove(path: Path, base: Path) -> bool:
    """Delete one file inside ``base``; False if it was already gone (or not inside)."""
    resolved = path.resolve()
    if base not in resolved.parents:
        return False
    try:
        os.unlink(resolved)
        return True
    except FileNotFoundError:
        return False


class Retention:
    def __init__(
        self,
        db: Database,
        root: Path,
        config: RecordingsConfig,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.db = db
        self.root = root
        self.config = config
        self.clock = clock
        self.purged_total = 0
        self.last_usage: DiskUsage | None = None

    def _remove_files(self, paths: list[str]) -> int:
        base = self.root.resolve()
        return sum(_remove(self.root / p, base) for p in paths)

    def _shortest(self) -> int:
        return min([self.config.default.retention_days, *(q.retention_days for q in self.config.queues.values())])

    async def purge(self) -> int:
        """Delete the files past retention (in batches, oldest first); returns how many rows were marked."""
        now = self.clock()
        horizon = now - timedelta(days=self._shortest())
        marked = 0
        last_id = 0
        while True:
            async with self.db.session() as s:
                rows = (
                    await s.execute(
                        select(Recording.id, Recording.call_id, Recording.path, Recording.queue, Recording.created_at)
                        .where(Recording.purged_at.is_(None), Recording.created_at < horizon, Recording.id > last_id)
                        .order_by(Recording.id)
                        .limit(BATCH)
                    )
                ).all()
            if not rows:
                break
            last_id = rows[-1].id
            due = [r for r in rows if r.created_at < now - timedelta(days=self.config.retention_days(r.queue))]
            if not due:
                continue
            removed = await asyncio.to_thread(self._remove_files, [r.path for r in due])
            async with self.db.session() as s:
                await s.execute(update(Recording).where(Recording.id.in_([r.id for r in due])).values(purged_at=now))
                s.add_all(
                    RecordingAccess(recording_id=r.id, call_id=r.call_id, username=PURGER, action="purge", at=now)
                    for r in due
                )
                await s.commit()
            marked += len(due)
            log.info("recordings purged past retention", rows=len(due), files=removed)
        self.purged_total += marked
        await self.usage()
        return marked

    async def usage(self) -> DiskUsage:
        async with self.db.session() as s:
            by_queue = {
                q or "": (int(n), int(b or 0))
                for q, n, b in await s.execute(
                    select(Recording.queue, func.count(), func.sum(Recording.size_bytes))
                    .where(Recording.purged_at.is_(None))
                    .group_by(Recording.queue)
                )
            }
            gone = select(func.count()).select_from(Recording).where(Recording.purged_at.is_not(None))
            purged = (await s.execute(gone)).scalar_one()
        disk = await asyncio.to_thread(shutil.disk_usage, self.root if self.root.exists() else self.root.parent)
        self.last_usage = DiskUsage(
            files=sum(n for n, _ in by_queue.values()),
            bytes=sum(b for _, b in by_queue.values()),
            by_queue={q: b for q, (_, b) in sorted(by_queue.items())},
            purged=int(purged),
            disk_total_bytes=disk.total,
            disk_free_bytes=disk.free,
            measured_at=self.clock(),
        )
        return self.last_usage
