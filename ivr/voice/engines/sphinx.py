"""PocketSphinx with a JSGF keyword grammar over its packaged US-English model.

That model is 16 kHz only (its feature parameters cut at 6.8 kHz), so 8 kHz telephone audio is upsampled
by two on the way in. Decoders are heavy to build (~0.15 s, holding the GIL: the event loop stalls meanwhile)
but cheap to reuse: a pool built at load, sized for the voice questions that run at once, each decoder
keeping the grammars it has seen.
"""

from __future__ import annotations

import hashlib
import os
import re
import threading
from array import array
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ivr.voice.engines.base import EngineError, Hypothesis, Word

FPS = 100
CHUNK = 640  # 20 ms at 16 kHz  # PocketSphinx's segment times are in 10 ms frames
_WORD = re.compile(r"^[a-z'][a-z'-]*$")


def packaged_english_model() -> Path | None:
    try:
        import pocketsphinx
    except ImportError:
        return None
    return Path(os.path.dirname(pocketsphinx.__file__)) / "model" / "en-us"


class Upsampler:
    """8 kHz → 16 kHz by linear interpolation, across chunk boundaries (one sample of delay)."""

    def __init__(self) -> None:
        self._last: int | None = None

    def __call__(self, pcm: bytes) -> bytes:
        x = array("h")
        x.frombytes(pcm[: len(pcm) - len(pcm) % 2])
        if not x:
            return b""
        out = array("h", bytes(4 * len(x)))
        prev = x[0] if self._last is None else self._last
        for i, s in enumerate(x):
            out[2 * i] = (prev + s) >> 1
            out[2 * i + 1] = s
            prev = s
        self._last = prev
        return out.tobytes()


def jsgf(phrases: Sequence[str], sequence: bool = False) -> str:
    alternatives = " | ".join(" ".join(p.lower().split()) for p in phrases)
    rule = f"( {alternatives} )+" if sequence else alternatives
    return f"#JSGF V1.0;\ngrammar ivr;\npublic <keyword> = {rule} ;\n"


class SphinxUtterance:
    def __init__(self, owner: SphinxRecogniser, decoder: Any) -> None:
        self._owner = owner
        self._decoder: Any = decoder
        self._up = Upsampler()
        self._finished = False

    def feed(self, pcm: bytes) -> None:
        if self._decoder is None or self._finished:
            raise EngineError("utterance already finished")
        audio = self._up(pcm)
        # the binding holds the GIL while it decodes: one 20 ms frame per call keeps the event loop's
        # wait on it around a millisecond however much audio arrives at once
        for i in range(0, len(audio), CHUNK):
            self._decoder.process_raw(audio[i : i + CHUNK], False, False)

    def feed_whole(self, pcm: bytes) -> None:
        """A whole utterance at once: its cepstral mean is taken over all of it (batch CMN), not estimated
        live from the decoder's earlier utterances."""
        if self._decoder is None or self._finished:
            raise EngineError("utterance already finished")
        self._decoder.process_raw(self._up(pcm), False, True)

    def finish(self) -> Hypothesis:
        if self._decoder is None or self._finished:
            raise EngineError("utterance already finished")
        self._finished = True
        d = self._decoder
        d.end_utt()
        hyp = d.hyp()
        words = tuple(
            Word(s.word.strip(), float(s.prob), s.start_frame / FPS, (s.end_frame + 1) / FPS)
            for s in (d.seg() or ())
            if _WORD.match(s.word.strip())  # not <s>, </s>, <sil>, [NOISE] nor fillers
        )
        self.close()
        return Hypothesis(hyp.hypstr.strip() if hyp else "", words)

    def close(self) -> None:
        if self._decoder is not None:
            if not self._finished:
                self._finished = True
                try:
                    self._decoder.end_utt()
                except Exception:  # a decoder that cannot end its utterance is not reused
                    self._decoder = None
                    return
            self._owner._release(self._decoder)
            self._decoder = None


class SphinxRecogniser:
    engine = "pocketsphinx"
    decodes_whole = True  # its utterances offer ``feed_whole`` (batch normalisation), see question.py

    def __init__(self, language: str, model_dir: Path | None, decoders: int = 2) -> None:
        self.language = language
        self.model_dir = model_dir if model_dir is not None else packaged_english_model()
        self.initial = max(1, decoders)
        self._idle: list[Any] = []
        self._grammars: dict[int, set[str]] = {}
        self._lock = threading.Lock()
        self._dictionary: Any = None
        self.created = 0
        self.utterances = 0

    def _files(self) -> tuple[Path, Path]:
        if self.model_dir is None:
            raise EngineError("pocketsphinx is not installed")
        hmm, dic = self.model_dir / "en-us", self.model_dir / "cmudict-en-us.dict"
        if not (hmm / "mdef").exists() or not dic.exists():
            raise EngineError(f"no PocketSphinx model at {self.model_dir}")
        return hmm, dic

    def _new_decoder(self) -> Any:
        from pocketsphinx import Config, Decoder

        hmm, dic = self._files()
        config = Config(hmm=str(hmm), dict=str(dic), samprate=16000, loglevel="FATAL", lm=None)
        decoder = Decoder(config)
        with self._lock:
            self.created += 1
        return decoder

    def load(self) -> None:
        decoders = [self._new_decoder() for _ in range(self.initial)]
        with self._lock:
            self._dictionary = decoders[0]
            self._idle.extend(decoders)

    def missing_words(self, phrases: Sequence[str]) -> list[str]:
        if self._dictionary is None:
            raise EngineError("PocketSphinx not loaded")
        words = {w for p in phrases for w in p.lower().split()}
        with self._lock:
            return sorted(w for w in words if not _WORD.match(w) or self._dictionary.lookup_word(w) is None)

    def start(self, phrases: Sequence[str], sequence: bool = False) -> SphinxUtterance:
        if self._dictionary is None:
            raise EngineError("PocketSphinx not loaded")
        with self._lock:
            decoder = self._idle.pop() if self._idle else None
        if decoder is None:
            decoder = self._new_decoder()
        grammar = jsgf(phrases, sequence)
        name = "g" + hashlib.sha1(grammar.encode()).hexdigest()[:12]
        seen = self._grammars.setdefault(id(decoder), set())
        if name not in seen:
            decoder.add_jsgf_string(name, grammar)
            seen.add(name)
        decoder.activate_search(name)
        decoder.start_utt()
        self.utterances += 1
        return SphinxUtterance(self, decoder)

    def _release(self, decoder: Any) -> None:
        with self._lock:
            self._idle.append(decoder)

    def stats(self) -> dict[str, object]:
        return {"model": str(self.model_dir), "decoders": self.created, "utterances": self.utterances}
