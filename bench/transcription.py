"""CPU per recording of the offline transcription: one process per recording (the single-file command line)
against the persistent worker (``recordings.asr --serve``), on the same known prompt (espeak-ng, taken to
8 kHz and Ogg/Opus as a call leaves it), N recordings in a row each.

    python -m bench.transcription [--recordings 10] [--language en]

CPU is user + system time of the children (decoders and their sox/opusdec), from ``getrusage``; the worker's
steady figure is its own /proc counters between its first and its last answer (start-up excluded).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from recordings.asr_worker import AsrWorker
from recordings.policy import Transcription
from recordings.transcription import run_asr

PROMPT = "I would like to track my parcel please, it has not been delivered"
TICK = os.sysconf("SC_CLK_TCK")


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def process_cpu(pid: int) -> float:
    """utime + stime + its waited-for children's, in seconds (/proc/<pid>/stat fields 14-17)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return sum(int(x) for x in fields[11:15]) / TICK


def prompt(folder: Path) -> Path:
    wide, narrow, opus = folder / "p22.wav", folder / "p8.wav", folder / "p8.opus"
    subprocess.run(["espeak-ng", "-w", str(wide), PROMPT], check=True)
    subprocess.run(["sox", "-D", str(wide), "-r", "8000", "-c", "1", "-b", "16", str(narrow)], check=True)
    subprocess.run(["opusenc", "--quiet", "--bitrate", "16", str(narrow), str(opus)], check=True)
    return opus


async def per_process(opus: Path, n: int, settings: Transcription) -> tuple[float, float, set[str]]:
    cpu, wall, texts = children_cpu(), time.monotonic(), set()
    for _ in range(n):
        texts.add(await run_asr(opus, settings))
    return (children_cpu() - cpu) / n, (time.monotonic() - wall) / n, texts


async def persistent(opus: Path, n: int, settings: Transcription) -> tuple[float, float, float, set[str]]:
    worker = AsrWorker(settings)
    cpu, wall, texts = children_cpu(), time.monotonic(), set()
    texts.add(await worker.transcribe(opus))
    assert worker.pid is not None
    first = process_cpu(worker.pid)
    for _ in range(n - 1):
        texts.add(await worker.transcribe(opus))
    steady = (process_cpu(worker.pid) - first) / (n - 1)
    await worker.stop()
    return (children_cpu() - cpu) / n, (time.monotonic() - wall) / n, steady, texts


async def run(n: int, language: str) -> None:
    settings = Transcription(language=language)
    with tempfile.TemporaryDirectory() as folder:
        opus = await asyncio.to_thread(prompt, Path(folder))
        cpu, wall, texts = await per_process(opus, n, settings)
        print(f"process per recording: {cpu:.3f} s CPU/recording, {wall:.3f} s wall/recording ({n} in a row)")
        cpu2, wall2, steady, texts2 = await persistent(opus, n, settings)
        print(
            f"persistent worker:     {cpu2:.3f} s CPU/recording incl. its start-up, {steady:.3f} s steady, "
            f"{wall2:.3f} s wall/recording ({n} in a row)"
        )
        print(f"CPU saved: {1 - cpu2 / cpu:.0%} (steady {1 - steady / cpu:.0%}); same transcript: {texts == texts2}")
        print(f"transcript: {sorted(texts2)}")


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.transcription")
    parser.add_argument("--recordings", type=int, default=10)
    parser.add_argument("--language", choices=["en", "ko"], default="en")
    args = parser.parse_args()
    asyncio.run(run(max(2, args.recordings), args.language))
    return 0


if __name__ == "__main__":
    sys.exit(main())
