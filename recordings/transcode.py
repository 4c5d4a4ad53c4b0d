"""The finished WAV made into the file a browser plays: Ogg/Opus through ``opusenc`` (opus-tools).

Speech at 16 kbit/s is about a tenth of the 8 kHz 16-bit WAV (128 kbit/s) and plays in every current
browser (``audio/ogg; codecs=opus``). The encoder runs as a separate, niced process; the result is
written next to the WAV under a temporary name and renamed when whole, so a half-written file is never
served or described.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
from pathlib import Path

from hotline.logs import get_logger

log = get_logger(__name__)

OPUS = "opus"
MEDIA_TYPES = {"opus": "audio/ogg; codecs=opus", "wav": "audio/wav"}
SUFFIXES = {"opus": ".opus", "wav": ".wav"}


class TranscodeError(RuntimeError):
    pass


def encoder() -> str | None:
    return shutil.which("opusenc")


def _lower_priority(nice: int) -> None:
    with contextlib.suppress(OSError):
        os.nice(nice)


async def to_opus(wav: Path, *, bitrate_kbps: int = 16, timeout: float = 120.0, nice: int = 10) -> Path:
    """``<name>.opus`` beside ``wav`` (replacing any earlier one); raises ``TranscodeError``."""
    exe = encoder()
    if exe is None:
        raise TranscodeError("opusenc is not installed (Debian package opus-tools)")
    target = wav.with_suffix(".opus")
    partial = wav.with_suffix(".opus.part")
    proc = await asyncio.create_subprocess_exec(
        exe,
        "--quiet",
        "--bitrate",
        str(bitrate_kbps),
        "--comment",
        f"call={wav.stem}",
        str(wav),
        str(partial),
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
        preexec_fn=lambda: _lower_priority(nice),
    )
    try:
        _, err = await asyncio.wait_for(proc.communicate(), timeout)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        await asyncio.to_thread(partial.unlink, True)
        raise TranscodeError(f"opusenc took longer than {timeout:.0f} s on {wav.name}") from None
    if proc.returncode != 0 or not await asyncio.to_thread(lambda: partial.is_file() and partial.stat().st_size > 0):
        await asyncio.to_thread(partial.unlink, True)
        message = err.decode(errors="replace").strip().splitlines()[-1:] or ["no output"]
        raise TranscodeError(f"opusenc failed on {wav.name} ({proc.returncode}): {message[0]}")
    await asyncio.to_thread(os.replace, partial, target)
    return target
