"""Recording metadata: once a recorded call ends, make its file the one a browser plays and describe it.

MixMonitor finishes writing after the hangup, so we wait for the WAV to stop growing; then it is encoded
to Ogg/Opus (a niced ``opusenc`` process, one at a time), the compressed file is described (duration,
size, checksum) and the WAV deleted. File work (hashing, reading the WAV header) runs in a thread, never
on the event loop. The metadata goes through the durable outbox; a reconcile pass (at start and every few
minutes) describes any recent WAV that still has no row (its call ended while the controller was down)
and removes a WAV left beside its compressed file. When the encoder is missing or fails, the WAV itself
is kept and described (format ``wav``), so no recording is lost for a codec.

An on-demand call's file is provisional (``<call>.provisional.wav``): when the call ends it is cut to start
where the desk asked to record and kept like any other, or deleted when nobody asked; such a call gets no
recording row (the desk's "record", pause and resume stay in the audit log). Nothing else keeps a
provisional file: the reconcile pass skips them and deletes those left unclaimed an hour after their last
write (their call ended while the controller was down, so nobody can have asked to keep them since).
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
from typing import Any

from sqlalchemy import case, func, select, text
from sqlalchemy.dialects.postgresql import Insert
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from cti.events import CallEnded, CallRecord
from hotline.background import Periodic
from hotline.columns import fit_row
from hotline.db import Database, table_of
from hotline.logs import bind_call, get_logger
from hotline.outbox import Outbox
from recordings.live import Finished, LiveRecordings
from recordings.models import Recording
from recordings.policy import PROVISIONAL_SUFFIX, Policy, RecordingsConfig
from recordings.records import Pause, RecordingRecord
from recordings.transcode import OPUS, TranscodeError, to_opus, trim_wav

log = get_logger(__name__)

KIND = "recording"
PROVISIONAL_STALE_SECONDS = 3600.0  # an unclaimed provisional file not written for this long is deleted


@dataclass
class FileFacts:
    duration_seconds: float
    size_bytes: int
    sha256: str


def wav_seconds(path: Path) -> float:
    try:
        with wave.open(str(path)) as w:
            return w.getnframes() / float(w.getframerate() or 1)
    except (wave.Error, EOFError):
        return 0.0


def checksum(path: Path) -> tuple[int, str]:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return path.stat().st_size, digest.hexdigest()


def describe(path: Path) -> FileFacts:
    size, sha = checksum(path)
    return FileFacts(wav_seconds(path), size, sha)


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return -1


async def wait_until_stable(path: Path, timeout: float = 10.0, interval: float = 0.2, size: int | None = None) -> bool:
    """True once the file exists and its size held still for two checks ``interval`` apart (``size``: the
    first check's answer, when the caller made it already)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    last = -1
    if size is not None:
        last = size
        await asyncio.sleep(interval)
    while loop.time() < deadline:
        now = await asyncio.to_thread(_size, path)
        if now >= 0 and now == last:
            return True
        last = now
        await asyncio.sleep(interval)
    return await asyncio.to_thread(_size, path) >= 0


def locate(candidates: list[Path]) -> tuple[Path | None, Path, int]:
    """Where a call's recording is, in one look at the disk: the on-demand provisional file if there is one,
    else the first candidate that exists (or the first), and that file's size (-1: none yet)."""
    for candidate in candidates:
        provisional = provisional_path(candidate)
        if provisional.exists():
            return provisional, candidate, _size(provisional)
    path = next((p for p in candidates if p.exists()), candidates[0])
    return None, path, _size(path)


async def store_recordings(session: AsyncSession, records: list[RecordingRecord]) -> None:
    """One row per call. Delivered twice, it lands once; what a second record knows (agent, queue, customer)
    fills what the first did not (a file found by the reconcile pass before its call's record arrived), and
    the latest description of the file (path, format, size, checksum) wins."""
    rows = list({r.call_id: fit_row(table_of(Recording), r.model_dump()) for r in records}.values())
    await session.execute(_STORE, rows)


def _store_statement() -> Insert:
    table = table_of(Recording)
    stmt = pg_insert(table)
    ex = stmt.excluded
    keep_known = {c: func.coalesce(table.c[c], ex[c]) for c in ("agent", "queue", "customer_id", "policy")}
    file_facts = {c: ex[c] for c in ("path", "format", "size_bytes", "sha256", "duration_seconds")}
    lists = {c: case((func.jsonb_array_length(ex[c]) > 0, ex[c]), else_=table.c[c]) for c in ("legs", "pauses")}
    return stmt.on_conflict_do_update(index_elements=["call_id"], set_={**keep_known, **file_facts, **lists})


_STORE = _store_statement()  # built once: every batch is one executemany of it


def _recent_files(root: Path, days: list[str], settled_before: float, provisional: bool = False) -> list[Path]:
    """WAV files of those day folders that nobody has written to since ``settled_before``: the recordings,
    or the on-demand calls' provisional files."""
    found: list[Path] = []
    for day in days:
        folder = root / day
        if not folder.is_dir():
            continue
        for path in folder.glob("*.wav"):
            if path.name.endswith(PROVISIONAL_SUFFIX) is not provisional:
                continue
            with contextlib.suppress(FileNotFoundError):
                if path.stat().st_mtime < settled_before:
                    found.append(path)
    return found


def provisional_path(path: Path) -> Path:
    """``…/<call>.wav`` → ``…/<call>.provisional.wav``."""
    return path.with_name(path.stem + PROVISIONAL_SUFFIX)


def _legs(call: CallRecord) -> list[dict[str, Any]]:
    return [leg.model_dump(mode="json", exclude_none=True) for leg in call.legs]


class RecordingCatalog:
    def __init__(
        self,
        db: Database,
        outbox: Outbox,
        recordings_dir: Path,
        config: RecordingsConfig | None = None,
        live: LiveRecordings | None = None,
        *,
        reconcile_every: float = 300.0,
    ) -> None:
        self.db = db
        self.outbox = outbox
        self.root = recordings_dir
        self.config = config or RecordingsConfig()
        self.live = live
        self.reconcile_every = reconcile_every
        self.settle_seconds = 30.0
        self.transcoded = 0
        self.transcode_failures = 0
        self._encoding = asyncio.Semaphore(1)  # one encoder at a time: the live calls keep the cores
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
        finished = self.live.finish(call.call_id) if self.live else Finished()
        with bind_call(call.call_id):
            candidates = self.candidates(call)
            provisional, path, size = await asyncio.to_thread(locate, candidates)
            if provisional is not None:
                await self._settle_provisional(call, provisional, finished, size)
                return
            if call.answered_at is None:
                await self._drop_if_empty(path, size)
                return
            policy = self.config.policy(call.queue)
            if policy is not Policy.all and size < 0:
                log.info("call not recorded by its queue's policy", queue=call.queue, policy=policy.value)
                return
            if not await wait_until_stable(path, size=size):
                if await asyncio.to_thread(path.with_suffix(".opus").exists):
                    return  # already made (the reconcile pass was first)
                log.error("answered call has no recording file", expected=[str(p) for p in candidates])
                return
            await self._keep(
                call.call_id,
                path,
                call.agent,
                call.queue,
                call.customer_id,
                policy=Policy.all,
                legs=_legs(call),
                pauses=finished.pauses,
            )

    async def _settle_provisional(self, call: CallRecord, provisional: Path, finished: Finished, size: int) -> None:
        """An on-demand call's file: cut to where the desk asked to record and kept, or deleted."""
        await wait_until_stable(provisional, size=size)
        if call.answered_at is None or finished.kept_from is None:
            await asyncio.to_thread(provisional.unlink, True)
            log.info("on-demand recording not asked for: deleted", queue=call.queue)
            return
        target = provisional.with_name(f"{call.call_id}.wav")
        try:
            await trim_wav(provisional, target, finished.kept_from, timeout=self.config.transcode.timeout_s)
        except TranscodeError as e:
            log.error("on-demand recording left provisional: not cut", error=str(e), from_s=finished.kept_from)
            return
        await asyncio.to_thread(provisional.unlink, True)
        await self._keep(
            call.call_id,
            target,
            call.agent,
            call.queue,
            call.customer_id,
            policy=Policy.on_demand,
            legs=_legs(call),
            pauses=finished.pauses,
        )

    async def _drop_if_empty(self, path: Path, size: int) -> None:
        """A caller never bridged leaves MixMonitor's empty WAV (header only): nothing to keep."""
        if await wait_until_stable(path, timeout=3.0, size=size) and await asyncio.to_thread(wav_seconds, path) == 0:
            await asyncio.to_thread(path.unlink, True)

    async def _keep(
        self,
        call_id: str,
        path: Path,
        agent: str | None,
        queue: str | None,
        customer_id: int | None,
        *,
        policy: Policy | None = None,
        legs: list[dict[str, Any]] | None = None,
        pauses: list[Pause] | None = None,
    ) -> None:
        seconds = await asyncio.to_thread(wav_seconds, path)
        if seconds == 0:
            log.info("empty recording dropped (never bridged)", path=str(path.relative_to(self.root)))
            await asyncio.to_thread(path.unlink, True)
            return
        kept, fmt = path, "wav"
        async with self._encoding:
            try:
                kept = await to_opus(
                    path, bitrate_kbps=self.config.transcode.bitrate_kbps, timeout=self.config.transcode.timeout_s
                )
                fmt = OPUS
                self.transcoded += 1
            except TranscodeError as e:
                self.transcode_failures += 1
                log.error("recording kept as WAV: not transcoded", error=str(e))
        size, sha = await asyncio.to_thread(checksum, kept)
        record = RecordingRecord(
            call_id=call_id,
            path=str(kept.relative_to(self.root)),
            agent=agent,
            queue=queue,
            customer_id=customer_id,
            duration_seconds=round(seconds, 3),
            size_bytes=size,
            sha256=sha,
            format=fmt,
            policy=(policy or self.config.policy(queue)).value,
            legs=legs or [],
            pauses=[p.model_dump() for p in pauses or []],
        )
        await self.outbox.put(KIND, record)
        if kept != path:
            await asyncio.to_thread(path.unlink, True)
        log.info("recording kept for storing", path=record.path, seconds=round(seconds, 1), size=size, format=fmt)

    async def reconcile(self) -> int:
        """Rows for recording files of the last two days that have none (their call ended while the controller
        was down, or before their metadata was kept); returns how many were kept for storing. A WAV whose
        compressed file is already described is removed."""
        today = datetime.now().astimezone()
        days = [(today - timedelta(days=d)).strftime("%Y/%m/%d") for d in range(3)]
        await self._drop_unclaimed(days)
        files = await asyncio.to_thread(_recent_files, self.root, days, time.time() - self.settle_seconds)
        if not files:
            return 0
        by_id = {p.stem: p for p in files}
        async with self.db.session() as s:
            known = await s.execute(
                select(Recording.call_id, Recording.format).where(Recording.call_id.in_(list(by_id)))
            )
            formats: dict[str, str] = {call_id: fmt for call_id, fmt in known}
            missing = [i for i in by_id if i not in formats]
            calls = {}
            if missing:
                calls = {
                    r.call_id: r
                    for r in await s.execute(
                        text("SELECT call_id, agent, queue, customer_id FROM interactions WHERE call_id = ANY(:ids)"),
                        {"ids": missing},
                    )
                }
        for call_id, fmt in formats.items():
            wav = by_id[call_id]
            if fmt != "wav" and await asyncio.to_thread(wav.with_suffix(".opus").is_file):
                await asyncio.to_thread(wav.unlink, True)
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

    async def _drop_unclaimed(self, days: list[str]) -> None:
        """Provisional files of calls that ended unseen (none of a call still known live)."""
        stale = await asyncio.to_thread(
            _recent_files, self.root, days, time.time() - PROVISIONAL_STALE_SECONDS, provisional=True
        )
        live = self.live.calls if self.live else {}
        for path in stale:
            call_id = path.name.removesuffix(PROVISIONAL_SUFFIX)
            call = live.get(call_id)
            if call is not None and call.ended_at is None:
                continue
            await asyncio.to_thread(path.unlink, True)
            with bind_call(call_id):
                log.info("unclaimed on-demand recording deleted", path=str(path.relative_to(self.root)))
