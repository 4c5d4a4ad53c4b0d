"""Prompt audio: text rendered with espeak-ng + sox into 8 kHz mono WAV, cached by text hash.

A real deployment drops studio recordings in place of these. The cache outside the work tree
(``$CACHE/prompts``) means a fresh ``var/`` (each test stack) copies instead of synthesising.
Each text is rendered with a voice (``VOICES`` maps a language to an espeak-ng voice; Mandarin Hanzi need
``cmn-latn-pinyin``: the plain ``cmn`` voice reads pinyin tone digits out in English).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
from collections.abc import Mapping
from pathlib import Path

VOICE = "en-us"
VOICES: Mapping[str, str] = {"en": "en-us", "zh": "cmn-latn-pinyin"}
SPEED = "150"
CACHE = Path(os.environ.get("HOTLINE_CACHE", "/var/cache/hotline")) / "prompts"


def voice_for(language: str | None) -> str:
    """The espeak-ng voice of a language tag (``zh-CN`` → Mandarin); English for any other."""
    base = (language or "en").split("-")[0].lower()
    return VOICES.get(base, VOICE)


def prompt_key(text: str, voice: str = VOICE) -> str:
    return hashlib.sha256(f"{voice}|{SPEED}|{text}".encode()).hexdigest()[:16]


def synthesise(text: str, out: Path, voice: str = VOICE) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        raw = Path(tmp) / "tts.wav"
        subprocess.run(["espeak-ng", "-v", voice, "-s", SPEED, "-w", str(raw), text], check=True, capture_output=True)
        subprocess.run(
            ["sox", str(raw), "-r", "8000", "-c", "1", "-b", "16", "-e", "signed-integer", str(out)],
            check=True,
            capture_output=True,
        )


def _cache_dir() -> Path | None:
    try:
        CACHE.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    return CACHE


def ensure_prompt(text: str, directory: Path, voice: str = VOICE) -> Path:
    """``<dir>/<hash>.wav`` for ``text`` in ``voice`` (copied from the cache or synthesised); the path
    without its extension (the form Asterisk's Playback and STREAM FILE take)."""
    key = prompt_key(text, voice)
    target = directory / f"{key}.wav"
    if not target.exists():
        cache = _cache_dir()
        cached = cache / f"{key}.wav" if cache else None
        if cached is not None and cached.exists():
            shutil.copyfile(cached, target)
        else:
            partial = target.with_suffix(".part.wav")
            synthesise(text, partial, voice)
            partial.replace(target)  # never a half-written prompt under the final name
            if cached is not None:
                shutil.copyfile(target, cached)
    return target.with_suffix("")


def ensure_prompts(prompts: Mapping[str, str], directory: Path, voice: str = VOICE) -> dict[str, Path]:
    """Make sure every prompt exists as ``<dir>/<hash>.wav``; return name → path without extension."""
    directory.mkdir(parents=True, exist_ok=True)
    return {name: ensure_prompt(text, directory, voice) for name, text in prompts.items()}
