"""The finished WAV made into the file a browser plays: Ogg/Opus through ``opusenc`` (opus-tools).

Speech at 16 kbit/s is about a tenth of the 8 kHz 16-bit WAV (128 kbit/s) and plays in every current
browser (``audio/ogg; codecs=opus``). The encoder runs as a separate, niced process; the result is
written next to the WAV under a temporary name and renamed when whole, so a half-written file is never
served or described.

An on-demand recording is kept from the desk's "record" on: its provisional WAV is first cut to start there
(``sox … trim <seconds>``, or the same frames copied by Python's ``wave`` module when sox is missing), and
only the cut file is encoded, so no audio from before the agent asked is ever kept.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import wave
from pathlib import Path

from hotline.logs import get_logger

log = get_logger(__name__)

OPUS = "opus"
MEDIA_TYPES = {"opus": "audio/ogg; codecs=opus", "wav": "audio/wav"}
SUFFIXES = {"opus": ".opus", "wav": ".wav"}


class TranscodeError(RuntimeError):
    pass


def trimmer() -> str | None:
    return shutil.which("sox")


def _copy_from(source: Path, target: Path, seconds: float) -> None:
    """The WAV's frames from ``seconds`` on, same format (the fallback without sox)."""
    with wave.open(str(source)) as src, wave.open(str(target), "wb") as dst:
        dst.setparams(src.getparams())
        src.setpos(min(src.getnframes(), round(seconds * src.getframerate())))
        for chunk in iter(lambda: src.readframes(1 << 16), b""):
            dst.writeframes(chunk)


async def _sox_trim(exe: str, source: Path, partial: Path, seconds: float, timeout: float, nice: int) -> None:
    proc = await asyncio.create_subprocess_exec(
        *niced(nice, exe, "-q", str(source), "-t", "wav", str(partial), "trim", f"{seconds:.3f}"),
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        _, err = await asyncio.wait_for(proc.communicate(), timeout)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        raise TranscodeError(f"sox took longer than {timeout:.0f} s on {source.name}") from None
    if proc.returncode != 0:
        message = err.decode(errors="replace").strip().splitlines()[-1:] or ["no output"]
        raise TranscodeError(f"sox failed on {source.name} ({proc.returncode}): {message[0]}")


async def trim_wav(source: Path, target: Path, seconds: float, *, timeout: float = 120.0, nice: int = 10) -> Path:
    """``target``: ``source`` without its first ``seconds`` (written whole, then renamed); raises
    ``TranscodeError``."""
    partial = target.with_name(target.name + ".part")
    seconds = max(0.0, seconds)
    exe = trimmer()
    try:
        if exe is None:
            await asyncio.to_thread(_copy_from, source, partial, seconds)
        else:
            await _sox_trim(exe, source, partial, seconds, timeout, nice)
        await asyncio.to_thread(os.replace, partial, target)
    except BaseException as e:
        await asyncio.to_thread(partial.unlink, True)
        if isinstance(e, (OSError, wave.Error, EOFError)):
            raise TranscodeError(f"could not cut {source.name}: {e}") from e
        raise
    return target


def encoder() -> str | None:
    return shutil.which("opusenc")


def niced(nice: int, *argv: str) -> list[str]:
    """``argv`` run through nice(1): no ``preexec_fn``, so the controller (large, threaded) starts the child
    with vfork instead of copying itself with fork (several ms of kernel time per recording, measured)."""
    exe = shutil.which("nice")
    return [exe, "-n", str(nice), *argv] if exe and nice else list(argv)


async def to_opus(wav: Path, *, bitrate_kbps: int = 16, timeout: float = 120.0, nice: int = 10) -> Path:
    """``<name>.opus`` beside ``wav`` (replacing any earlier one); raises ``TranscodeError``."""
    exe = encoder()
    if exe is None:
        raise TranscodeError("opusenc is not installed (Debian package opus-tools)")
    target = wav.with_suffix(".opus")
    partial = wav.with_suffix(".opus.part")
    argv = (exe, "--quiet", "--bitrate", str(bitrate_kbps), "--comment", f"call={wav.stem}", str(wav), str(partial))
    proc = await asyncio.create_subprocess_exec(
        *niced(nice, *argv),
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        _, err = await asyncio.wait_for(proc.communicate(), timeout)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        await asyncio.to_thread(partial.unlink, True)
        raise TranscodeError(f"opusenc took longer than {timeout:.0f} s on {wav.name}") from None
    if not await asyncio.to_thread(_settle, partial, target, proc.returncode == 0):
        message = err.decode(errors="replace").strip().splitlines()[-1:] or ["no output"]
        raise TranscodeError(f"opusenc failed on {wav.name} ({proc.returncode}): {message[0]}")
    return target


def _settle(partial: Path, target: Path, exited_well: bool) -> bool:
    """The encoder's output put in place if it exited well and wrote something, else removed (one thread hop)."""
    if exited_well and partial.is_file() and partial.stat().st_size > 0:
        os.replace(partial, target)
        return True
    partial.unlink(missing_ok=True)
    return False
