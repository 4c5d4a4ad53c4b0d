"""Prompt audio: text rendered with espeak-ng + sox into 8 kHz mono WAV, cached by text hash.

A real deployment drops studio recordings in place of these. The cache outside the work tree
(``$CACHE/prompts``) means a fresh ``var/`` (each test stack) copies instead of synthesising.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

VOICE = "en-us"
SPEED = "150"
CACHE = Path(os.environ.get("HOTLINE_CACHE", "/var/cache/hotline")) / "prompts"


def prompt_key(text: str) -> str:
    return hashlib.sha256(f"{VOICE}|{SPEED}|{text}".encode()).hexdigest()[:16]


def synthesise(text: str, out: Path) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        raw = Path(tmp) / "tts.wav"
        subprocess.run(["espeak-ng", "-v", VOICE, "-s", SPEED, "-w", str(raw), text], check=True, capture_output=True)
        subprocess.run(
            ["sox", str(raw), "-r", "8000", "-c", "1", "-b", "16", "-e", "signed-integer", str(out)],
            check=True,
            capture_output=True,
        )


def ensure_prompts(prompts: dict[str, str], directory: Path) -> dict[str, Path]:
    """Make sure every prompt exists as ``<dir>/<hash>.wav``; return name → path without extension
    (the form Asterisk's Playback and STREAM FILE take)."""
    directory.mkdir(parents=True, exist_ok=True)
    try:
        CACHE.mkdir(parents=True, exist_ok=True)
        cache: Path | None = CACHE
    except OSError:
        cache = None
    paths: dict[str, Path] = {}
    for name, text in prompts.items():
        key = prompt_key(text)
        target = directory / f"{key}.wav"
        if not target.exists():
            cached = cache / f"{key}.wav" if cache else None
            if cached is not None and cached.exists():
                shutil.copyfile(cached, target)
            else:
                synthesise(text, target)
                if cached is not None:
                    shutil.copyfile(target, cached)
        paths[name] = target.with_suffix("")
    return paths
