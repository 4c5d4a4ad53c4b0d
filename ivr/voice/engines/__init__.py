"""Speech engines behind one interface (``base.Recogniser``); ``build`` picks one by name."""

from __future__ import annotations

from pathlib import Path

from ivr.voice.engines.base import EngineError, Recogniser


def build(engine: str, language: str, model: Path | None, decoders: int = 2) -> Recogniser:
    """A recogniser, not loaded yet (``load`` is blocking: run it in a thread)."""
    if engine == "vosk":
        from ivr.voice.engines.vosk_engine import VoskRecogniser

        return VoskRecogniser(language, model)
    if engine == "pocketsphinx":
        from ivr.voice.engines.sphinx import SphinxRecogniser

        return SphinxRecogniser(language, model, decoders)
    raise EngineError(f"unknown speech engine {engine!r}")


__all__ = ["EngineError", "Recogniser", "build"]
