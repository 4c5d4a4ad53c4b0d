"""A small energy voice-activity detector over 20 ms frames, with an adaptive noise floor.

It drives barge-in (speech onset stops the prompt) and the end of the utterance. Two silences matter: a
short ``pause`` after which a confident, complete keyword is decided at once, and the longer ``end`` after
which whatever was heard is decided (see question.py).
"""

from __future__ import annotations

import enum
import math
from array import array
from dataclasses import dataclass

from ivr.voice.frames import FRAME_MS


class Event(enum.Enum):
    onset = "onset"  # speech started (after ``onset_ms`` of voiced frames)
    resume = "resume"  # voiced again after a pause, within the same utterance
    pause = "pause"  # ``pause_ms`` of silence after speech
    end = "end"  # ``end_ms`` of silence after speech: the utterance is over
    too_long = "too_long"  # speech for longer than ``max_speech_ms``


@dataclass(frozen=True)
class VadSettings:
    threshold_dbfs: float = -45.0  # never call anything quieter than this speech
    margin_db: float = 12.0  # above the noise floor
    onset_ms: int = 60
    pause_ms: int = 60
    end_ms: int = 450
    max_speech_ms: int = 8000


def level_dbfs(pcm: bytes) -> float:
    samples = array("h")
    samples.frombytes(pcm[: len(pcm) - len(pcm) % 2])
    if not samples:
        return -120.0
    energy = sum(s * s for s in samples) / len(samples)
    return 10 * math.log10(energy / (32768.0 * 32768.0)) if energy > 0 else -120.0


class EnergyVad:
    def __init__(self, settings: VadSettings | None = None) -> None:
        self.s = settings or VadSettings()
        self.noise_db = -70.0
        self.in_speech = False  # inside an utterance (from onset to end)
        self.voiced_run = 0
        self.silent_run = 0
        self.speech_ms = 0
        self.paused = False

    @property
    def threshold(self) -> float:
        return max(self.s.threshold_dbfs, self.noise_db + self.s.margin_db)

    def feed(self, pcm: bytes) -> tuple[bool, Event | None]:
        """(is this frame voiced, the event it causes)."""
        level = level_dbfs(pcm)
        voiced = level >= self.threshold
        if not self.in_speech and not voiced:  # follow the line's noise, slowly up, quickly down
            rate = 0.05 if level > self.noise_db else 0.3
            self.noise_db += rate * (level - self.noise_db)
        if voiced:
            self.voiced_run += FRAME_MS
            self.silent_run = 0
        else:
            self.voiced_run = 0
            self.silent_run += FRAME_MS
        if not self.in_speech:
            if self.voiced_run >= self.s.onset_ms:
                self.in_speech, self.speech_ms, self.paused = True, self.voiced_run, False
                return voiced, Event.onset
            return voiced, None
        self.speech_ms += FRAME_MS
        if self.speech_ms >= self.s.max_speech_ms:
            self.in_speech = False
            return voiced, Event.too_long
        if voiced and self.paused:
            self.paused = False
            return voiced, Event.resume
        if self.silent_run == self.s.pause_ms:
            self.paused = True
            return voiced, Event.pause
        if self.silent_run >= self.s.end_ms:
            self.in_speech = False
            return voiced, Event.end
        return voiced, None
