"""Queue events from Asterisk's own ``queue_log`` file, into PostgreSQL exactly once.

Asterisk appends one line per queue event (``time|callid|queue|agent|event|data1|…``) whatever the
controller or the database is doing, so the file is the record: the controller tails it and writes the
lines together with the file position (inode, byte offset) in the same PostgreSQL transaction. After a
controller crash or a database outage it resumes from the stored position: nothing is lost, nothing is
stored twice, and the file simply accumulates in the meantime.

Handled: a partial last line (waits for its newline), rotation (a new inode: the old file is finished
first if it is still beside it, e.g. ``queue_log.0``), truncation (size below the offset), garbage lines
(kept in ``queue_log_rejects`` with their offset, never blocking the lines after them), a file rewritten
in place (its first line no longer the one seen: read again from the start), more fields than columns
(the rest joined into ``data5``). The file is polled with one ``stat`` every ``poll`` seconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from cms.models import QueueLogLine, QueueLogOffset, QueueLogReject
from hotline.background import Background
from hotline.columns import fit_row
from hotline.db import Database, table_of
from hotline.errors import first_line
from hotline.logs import get_logger
from hotline.outbox import FIRST_BACKOFF, MAX_BACKOFF, is_transient

log = get_logger(__name__)

CHUNK = 1 << 20  # bytes read (and lines stored) per transaction

# built once (Core, not the ORM's bulk path): every pass reuses them and their cache keys
_LINES = insert(table_of(QueueLogLine))
_REJECTS = insert(table_of(QueueLogReject))
_offset = pg_insert(table_of(QueueLogOffset))
_SAVE_OFFSET = _offset.on_conflict_do_update(
    index_elements=["name"],
    set_={c: _offset.excluded[c] for c in ("inode", "offset", "head", "updated_at")},
)
MIN_TIME = 946684800  # 2000-01-01: an earlier "time" is not a queue_log time
MAX_TIME = 4102444800  # 2100-01-01
HEAD_BYTES = 256


class Reject(ValueError):
    """A line that is not a queue_log line."""


@dataclass
class Position:
    inode: int
    offset: int
    head: str | None = None  # fingerprint of the file's first line: tells a rewritten file from a grown one


def fingerprint(first_line: bytes) -> str:
    return hashlib.sha1(first_line[:HEAD_BYTES]).hexdigest()


def parse_line(text: str) -> dict[str, Any]:
    """One queue_log line as a row (without its source position); Reject if it is not one."""
    fields = text.split("|")
    if len(fields) < 5:
        raise Reject(f"{len(fields)} fields, at least 5 expected")
    stamp, callid, queue, agent, event, *data = fields
    if not stamp.isdigit() or not MIN_TIME <= int(stamp) <= MAX_TIME:
        raise Reject("time is not a Unix time")
    if not event:
        raise Reject("no event name")
    row: dict[str, Any] = {
        "time": datetime.fromtimestamp(int(stamp), UTC),
        "callid": callid,
        "queue": queue,
        "agent": agent,
        "event": event,
    }
    for i in range(4):
        row[f"data{i + 1}"] = data[i] if i < len(data) else None
    row["data5"] = "|".join(data[4:]) if len(data) > 4 else None
    return row


@dataclass
class Chunk:
    """Complete lines read from one file, and the offset after the last of them."""

    lines: list[tuple[int, bytes]]  # (offset of the line, the line without its newline)
    end: int


def split_lines(data: bytes, start: int, final: bool, full: bool) -> Chunk:
    """Complete lines of ``data`` (read at ``start``). A partial last line is left for later unless the file is
    ``final`` (rotated away: nothing will complete it) or the read was ``full`` with no newline at all (a
    line longer than a chunk, taken as it is)."""
    cut = data.rfind(b"\n") + 1
    if cut == 0 and (final or full):
        return Chunk([(start, data)] if data else [], start + len(data))
    lines: list[tuple[int, bytes]] = []
    pos = 0
    while pos < cut:
        nl = data.index(b"\n", pos)
        lines.append((start + pos, data[pos:nl]))
        pos = nl + 1
    if final and cut < len(data):
        lines.append((start + cut, data[cut:]))
        cut = len(data)
    return Chunk(lines, start + cut)


def _read(path: Path, inode: int, offset: int, size: int) -> bytes | None:
    """Up to ``size`` bytes at ``offset`` of ``path`` if it is still the file ``inode``."""
    try:
        with path.open("rb") as f:
            if os.fstat(f.fileno()).st_ino != inode:
                return None
            f.seek(offset)
            return f.read(size)
    except FileNotFoundError:
        return None


def _head(path: Path, inode: int) -> str | None:
    """The fingerprint of the first line of ``path`` if it is still the file ``inode`` and has one."""
    data = _read(path, inode, 0, HEAD_BYTES + 1)
    if not data or (b"\n" not in data[:HEAD_BYTES] and len(data) <= HEAD_BYTES):
        return None
    return fingerprint(data.split(b"\n", 1)[0])


def _stat(path: Path) -> os.stat_result | None:
    try:
        return path.stat()
    except FileNotFoundError:
        return None


def _find_inode(path: Path, inode: int) -> Path | None:
    """A rotated copy of the file (``queue_log.0``, ``queue_log.<timestamp>``, …) that is the file ``inode``."""
    for sibling in path.parent.glob(path.name + ".*"):
        with contextlib.suppress(OSError):
            if sibling.stat().st_ino == inode:
                return sibling
    return None


class QueueLogIngester:
    def __init__(
        self,
        path: Path,
        db: Database,
        *,
        poll: float = 0.5,
        chunk: int = CHUNK,
        timeout: float = 10.0,
        on_caught_up: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self.path = path
        self.db = db
        self.poll = poll
        self.chunk = chunk
        self.timeout = timeout
        self.on_caught_up = on_caught_up
        self.name = str(path)
        self.pos: Position | None = None
        self.lines_total = 0
        self.rejects_total = 0
        self.last_error: str | None = None
        self.task = Background("queue-log-ingester", self._run)

    # -- running ---------------------------------------------------------------------------------------
    def start(self) -> None:
        self.task.start()

    async def stop(self) -> None:
        await self.task.stop()

    async def _run(self) -> None:
        delay = FIRST_BACKOFF
        while True:
            try:
                stored = await self.run_once()
                self.last_error = None
                delay = FIRST_BACKOFF
                if stored and self.on_caught_up is not None:
                    try:
                        await self.on_caught_up()
                    except Exception as e:
                        log.warning("after-ingestion step failed", error=repr(e))
                await asyncio.sleep(self.poll)
            except asyncio.CancelledError:
                raise
            except Exception as e:
                self.last_error = repr(e)
                if is_transient(e):
                    log.warning("queue_log not stored yet; will retry", retry_in=delay, error=first_line(e))
                else:
                    log.error("queue_log ingestion failed; will retry", retry_in=delay, error=repr(e))
                self.pos = None  # re-read the stored position: the database is the truth
                await asyncio.sleep(delay)
                delay = min(delay * 2, MAX_BACKOFF)

    @property
    def lag_bytes(self) -> int | None:
        st = _stat(self.path)
        if st is None or self.pos is None or self.pos.inode != st.st_ino:
            return None
        return max(0, st.st_size - self.pos.offset)

    # -- one pass --------------------------------------------------------------------------------------
    async def run_once(self) -> int:
        """Store every complete line not stored yet; returns how many lines (and rejects) were stored."""
        if self.pos is None:
            self.pos = await self._load_position()
        st = await asyncio.to_thread(_stat, self.path)
        stored = 0
        if self.pos.inode and (st is None or st.st_ino != self.pos.inode):
            old = await asyncio.to_thread(_find_inode, self.path, self.pos.inode)
            if old is not None:
                stored += await self._ingest(old, final=True)
            elif st is not None:
                log.warning("queue_log replaced and the old file is gone: reading the new one from its start")
        if st is None:
            return stored
        if self.pos.inode != st.st_ino:
            self.pos = Position(st.st_ino, 0)
        elif st.st_size < self.pos.offset:
            log.warning("queue_log truncated: reading it from its start", size=st.st_size, offset=self.pos.offset)
            self.pos = Position(st.st_ino, 0)
        elif st.st_size > self.pos.offset and self.pos.head is not None:
            head = await asyncio.to_thread(_head, self.path, st.st_ino)
            if head is not None and head != self.pos.head:
                log.warning("queue_log rewritten in place: reading it from its start", offset=self.pos.offset)
                self.pos = Position(st.st_ino, 0)
        stored += await self._ingest(self.path, final=False)
        return stored

    async def _ingest(self, path: Path, final: bool) -> int:
        assert self.pos is not None
        stored = 0
        while True:
            inode, offset, head = self.pos.inode, self.pos.offset, self.pos.head
            data = await asyncio.to_thread(_read, path, inode, offset, self.chunk)
            if not data:
                return stored
            chunk = split_lines(data, offset, final=final, full=len(data) == self.chunk)
            if chunk.end == offset:
                return stored  # only a partial line: wait for its newline
            if offset == 0 and chunk.lines:
                head = fingerprint(chunk.lines[0][1])
            stored += await self._store(inode, chunk, head)
            self.pos = Position(inode, chunk.end, head)
            if len(data) < self.chunk:
                return stored  # the end of the file as it was: the next poll reads what came since

    async def _store(self, inode: int, chunk: Chunk, head: str | None) -> int:
        rows: list[dict[str, Any]] = []
        rejects: list[dict[str, Any]] = []
        for offset, raw in chunk.lines:
            text = raw.decode("utf-8", errors="replace").rstrip("\r")
            if not text.strip():
                continue
            try:
                row = parse_line(text)
            except Reject as e:
                rejects.append({"src_inode": inode, "src_offset": offset, "line": text, "reason": str(e)})
                log.warning("queue_log line rejected", offset=offset, reason=str(e), line=text[:200])
                continue
            rows.append(fit_row(table_of(QueueLogLine), {**row, "src_inode": inode, "src_offset": offset}))
        rejects = [fit_row(table_of(QueueLogReject), r) for r in rejects]
        try:
            async with asyncio.timeout(self.timeout), self.db.session() as s:
                await self._write(s, Position(inode, chunk.end, head), rows, rejects)
                await s.commit()
        except Exception as e:
            if is_transient(e) or not await self.db.ping():
                raise
            # a line PostgreSQL refuses: store the others, keep that one aside
            log.error("queue_log batch refused; storing line by line", error=first_line(e))
            rows, moved = await self._store_one_by_one(Position(inode, chunk.end, head), rows)
            rejects += moved
        self.lines_total += len(rows)
        self.rejects_total += len(rejects)
        return len(rows) + len(rejects)

    async def _store_one_by_one(
        self, pos: Position, rows: list[dict[str, Any]]
    ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        kept: list[dict[str, Any]] = []
        refused: list[dict[str, Any]] = []
        async with asyncio.timeout(self.timeout * 3), self.db.session() as s:
            for row in rows:
                try:
                    async with s.begin_nested():
                        await s.execute(insert(QueueLogLine), [row])
                    kept.append(row)
                except Exception as e:
                    if is_transient(e):
                        raise
                    line = "|".join(str(row.get(k) or "") for k in ("callid", "queue", "agent", "event"))
                    refused.append(
                        fit_row(
                            table_of(QueueLogReject),
                            {
                                "src_inode": pos.inode,
                                "src_offset": row["src_offset"],
                                "line": line,
                                "reason": first_line(e),
                            },
                        )
                    )
            await self._write(s, pos, [], refused)
            await s.commit()
        return kept, refused

    async def _write(
        self, s: AsyncSession, pos: Position, rows: list[dict[str, Any]], rejects: list[dict[str, Any]]
    ) -> None:
        if rows:
            await s.execute(_LINES, rows)
        if rejects:
            await s.execute(_REJECTS, rejects)
        await s.execute(
            _SAVE_OFFSET,
            {
                "name": self.name,
                "inode": pos.inode,
                "offset": pos.offset,
                "head": pos.head,
                "updated_at": datetime.now(UTC),
            },
        )

    async def _load_position(self) -> Position:
        async with asyncio.timeout(self.timeout), self.db.session() as s:
            found = (
                await s.execute(
                    select(QueueLogOffset.inode, QueueLogOffset.offset).where(QueueLogOffset.name == self.name)
                )
            ).one_or_none()
        return Position(found.inode, found.offset) if found else Position(0, 0)
