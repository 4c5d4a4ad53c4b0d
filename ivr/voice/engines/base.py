"""What every speech engine offers the IVR: keyword utterances over 8 kHz signed-linear audio.

All methods block (model loading, decoding): the caller runs them in a worker thread, never on the
event loop. One ``Utterance`` is used by one thread at a time.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol


class EngineError(Exception):
    """The engine cannot serve (model missing, a word outside its vocabulary, a decoder failure)."""


@dataclass(frozen=True)
class Word:
    word: str
    conf: float  # 0..1
    start: float  # seconds from the start of the utterance
    end: float


@dataclass(frozen=True)
class Hypothesis:
    text: str
    words: tuple[Word, ...] = ()


class Utterance(Protocol):
    def feed(self, pcm: bytes) -> None:
        """Signed-linear 16-bit mono 8 kHz audio, any whole number of samples."""

    def finish(self) -> Hypothesis:
        """End the utterance and decode it; the utterance cannot be fed afterwards."""

    def close(self) -> None:
        """Release what the utterance holds (a pooled decoder); safe to call more than once."""


class Recogniser(Protocol):
    language: str
    engine: str

    def load(self) -> None:
        """Load the model (seconds, hundreds of MB for Vosk): once per process, in a thread."""

    def missing_words(self, phrases: Sequence[str]) -> list[str]:
        """The words of ``phrases`` the model cannot recognise."""

    def start(self, phrases: Sequence[str], sequence: bool = False) -> Utterance:
        """A new utterance constrained to ``phrases`` (a keyword grammar): exactly one of them, or with
        ``sequence`` any run of them (digits said one after another); an engine that cannot raises
        ``EngineError``."""

    def stats(self) -> dict[str, object]:
        """Cheap figures for /healthz."""
