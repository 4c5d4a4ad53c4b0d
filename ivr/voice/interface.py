"""What the menu engine uses to ask a question by voice (``VOICE``), and the answer it gets."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol

from hotline.fastagi import AgiSession
from hotline.plugins import ServiceKey

AnswerKind = Literal["speech", "dtmf", "nomatch", "timeout", "failed"]


@dataclass(frozen=True)
class Answer:
    """``speech``: a keyword was recognised (``option``; ``needs_confirmation`` when its confidence is
    between the confirm and accept thresholds). ``dtmf``: a key (``option`` is the key, or None when it is
    not one of the question's keys; ``text`` is the key). ``nomatch``: speech, but no keyword with enough
    confidence. ``timeout``: nothing. ``failed``: speech could not be used and ``fallback_dtmf`` was off.
    ``fallback``: the answer came through Asterisk's keypad collection because speech failed (``error``)."""

    kind: AnswerKind
    option: str | None = None
    text: str = ""
    confidence: float = 0.0
    ms_after_speech_end: float | None = None
    needs_confirmation: bool = False
    barged_in: bool = False
    fallback: bool = False
    error: str | None = None


class VoiceQuestions(Protocol):
    def available(self, language: str) -> bool:
        """Speech can be tried for ``language`` now (its engine loaded, the AudioSocket server up)."""

    async def ask(
        self,
        agi: AgiSession,
        prompts: list[str],
        keywords: dict[str, str],
        dtmf: str,
        language: str,
        timeout: float,
        fallback_dtmf: bool = True,
    ) -> Answer:
        """Play ``prompts`` (paths without extension, 8 kHz WAV) and take a spoken keyword
        (``keywords``: spoken phrase → option) or one of the keys in ``dtmf``; ``timeout`` seconds after
        the prompt for the caller to start. Raises ``AgiHangup`` when the caller hangs up."""

    async def ask_digits(
        self, agi: AgiSession, prompts: list[str], language: str, timeout: float, max_digits: int
    ) -> Answer:
        """Play ``prompts`` and take up to ``max_digits`` digits said one by one or keyed (``option``)."""

    async def confirm(self, agi: AgiSession, prompts: list[str], language: str, timeout: float) -> bool | None:
        """A yes/no question (the language's yes/no words, or keys 1 = yes, 2 = no); None: no answer."""


VOICE = ServiceKey[VoiceQuestions]("ivr.voice")
