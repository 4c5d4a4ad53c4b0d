"""The controller's side of the persistent transcription worker (``python -m recordings.asr --serve``): one
niced process, started on the first recording, sent one recording at a time. A recording that takes longer
than the time limit, or a worker that dies, fails that recording only: the worker (with its decoders and
their own sox/opusdec children, all in its process group) is killed, and the next recording starts a new
one. ``stop`` ends it at shutdown by closing its input, killing it if it does not leave in time."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import sys
from collections import deque
from pathlib import Path

from hotline.logs import get_logger
from recordings.policy import Transcription

log = get_logger(__name__)

LINE_LIMIT = 16 * 1024 * 1024  # one answer is one line: a long call's transcript is far beyond asyncio's 64 KiB
STOP_GRACE_S = 5.0


class TranscriptionError(RuntimeError):
    pass


class AsrWorker:
    def __init__(self, settings: Transcription) -> None:
        self.settings = settings
        self.proc: asyncio.subprocess.Process | None = None
        self.started = 0  # worker processes started (a restart after a timeout or crash counts)
        self._stderr: deque[str] = deque(maxlen=5)
        self._stderr_task: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc is not None and self.proc.returncode is None else None

    async def transcribe(self, path: Path, language: str | None = None) -> str:
        """The recording's transcript; TranscriptionError when the worker says why not, takes too long or dies."""
        async with self._lock:
            proc = self.proc if self.proc is not None and self.proc.returncode is None else await self._spawn()
            assert proc.stdin is not None and proc.stdout is not None
            request = {"path": str(path), "language": language or self.settings.language}
            try:
                proc.stdin.write(json.dumps(request).encode() + b"\n")
                await proc.stdin.drain()
                line = await asyncio.wait_for(proc.stdout.readline(), self.settings.timeout_s)
            except TimeoutError:
                await self._kill()
                raise TranscriptionError(f"longer than {self.settings.timeout_s:g} s") from None
            except (ConnectionError, ValueError, asyncio.LimitOverrunError) as e:
                await self._kill()
                raise TranscriptionError(f"worker lost: {e}") from e
            except BaseException:  # cancelled mid-request: its answer would be read as the next one's
                await self._kill()
                raise
            if not line:
                await self._kill()
                tail = self._stderr[-1] if self._stderr else "no output"
                raise TranscriptionError(f"worker exit {proc.returncode}: {tail}")
            try:
                answer = json.loads(line)
            except ValueError as e:
                await self._kill()
                raise TranscriptionError(f"unreadable answer: {line[:200]!r}") from e
            if "error" in answer:
                raise TranscriptionError(str(answer["error"]))
            return str(answer["text"])

    async def stop(self) -> None:
        """Close the worker's input (it ends after its current recording); kill it past the grace time."""
        async with self._lock:
            proc = self.proc
            if proc is None:
                return
            if proc.returncode is None and proc.stdin is not None:
                proc.stdin.close()
                try:
                    await asyncio.wait_for(proc.wait(), STOP_GRACE_S)
                except TimeoutError:
                    log.warning("transcription worker did not stop, killed", pid=proc.pid)
            await self._kill()

    async def _spawn(self) -> asyncio.subprocess.Process:
        self._stderr.clear()
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "recordings.asr",
            "--serve",
            "--nice",
            str(self.settings.nice),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            start_new_session=True,  # its own process group: a kill takes its sox/opusdec children too
            limit=LINE_LIMIT,
        )
        self.proc, self.started = proc, self.started + 1
        self._stderr_task = asyncio.create_task(self._read_stderr(proc))
        log.info("transcription worker started", pid=proc.pid)
        return proc

    async def _read_stderr(self, proc: asyncio.subprocess.Process) -> None:
        """Keep the last lines (why it died); reading also keeps a chatty decoder from filling the pipe."""
        assert proc.stderr is not None
        async for raw in proc.stderr:
            text = raw.decode(errors="replace").strip()
            if text:
                self._stderr.append(text)

    async def _kill(self) -> None:
        proc, self.proc = self.proc, None
        if proc is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)  # the group outlives a worker that already left
        await proc.wait()
        task, self._stderr_task = self._stderr_task, None
        if task is not None:
            with contextlib.suppress(asyncio.CancelledError, TimeoutError):
                await asyncio.wait_for(task, 1.0)  # its last lines: the group is dead, so its stderr ends
