"""Prompt audio for the AudioSocket path: 8 kHz 16-bit mono, read once per file and kept in memory.

Prompts are named as the IVR names them for Asterisk (a path without its extension); a WAV or a raw
``.sln`` beside it is accepted. Anything else is an error, and the question then plays through Asterisk.
"""

from __future__ import annotations

import wave
from pathlib import Path

from ivr.voice.frames import SAMPLE_RATE

EXTENSIONS = (".wav", ".sln", ".slin")


class PromptError(Exception):
    pass


class PromptAudio:
    def __init__(self, max_files: int = 512) -> None:
        self._cache: dict[tuple[Path, float], bytes] = {}
        self.max_files = max_files

    def load(self, names: list[str]) -> bytes:
        """Blocking (file reads): call it in a thread. The prompts one after the other, as slin 8 kHz."""
        return b"".join(self._one(Path(n)) for n in names)

    def _one(self, name: Path) -> bytes:
        for path in [name, *(name.with_name(name.name + ext) for ext in EXTENSIONS)]:
            if path.suffix in EXTENSIONS and path.is_file():
                key = (path, path.stat().st_mtime)
                if key not in self._cache:
                    if len(self._cache) >= self.max_files:
                        self._cache.clear()
                    self._cache[key] = _read(path)
                return self._cache[key]
        raise PromptError(f"no prompt audio for {name} ({', '.join(EXTENSIONS)})")


def _read(path: Path) -> bytes:
    if path.suffix != ".wav":
        return path.read_bytes()
    try:
        with wave.open(str(path), "rb") as w:
            if (w.getframerate(), w.getnchannels(), w.getsampwidth()) != (SAMPLE_RATE, 1, 2):
                raise PromptError(
                    f"{path}: {w.getframerate()} Hz, {w.getnchannels()} channel(s), {8 * w.getsampwidth()} bit;"
                    " AudioSocket needs 8000 Hz mono 16-bit"
                )
            return w.readframes(w.getnframes())
    except (wave.Error, EOFError) as e:
        raise PromptError(f"{path}: {e}") from e
