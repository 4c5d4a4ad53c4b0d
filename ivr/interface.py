"""What the IVR offers other packages: a speech input the menu engine uses when one is provided."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Literal, Protocol

from pydantic import BaseModel

from hotline.fastagi import AgiSession
from hotline.plugins import ServiceKey


class Answer(BaseModel):
    """The caller's choice at a menu: a key (pressed, or the option whose keyword was said), or none; for a
    digit question ``key`` holds the digits."""

    key: str | None = None
    by: Literal["dtmf", "speech", "none"] = "none"
    heard: str | None = None  # the words recognised
    confidence: float | None = None


class SpeechInput(Protocol):
    def supports(self, language: str) -> bool:
        """Whether a recogniser for this language is loaded."""
        ...

    async def ask(
        self,
        agi: AgiSession,
        prompt: Path,
        keywords: Mapping[str, list[str]],
        language: str,
        timeout_ms: int,
    ) -> Answer:
        """Play ``prompt`` (interruptible by voice or DTMF) and return the option chosen: ``keywords`` maps each
        option's key to its words in ``language``; a key pressed is returned as it is. Raises on an engine
        failure (the menu then apologises and hands the caller to a person)."""
        ...

    def supports_digits(self, language: str) -> bool:
        """Whether digits can be said (not only keyed) in this language."""
        ...

    async def ask_digits(
        self, agi: AgiSession, prompt: Path, language: str, timeout_ms: int, max_digits: int
    ) -> Answer:
        """Play ``prompt`` and return the digits said or keyed (``key``: the digits, without #; None: nothing).
        Raises on an engine failure, as ``ask``."""
        ...


SPEECH: ServiceKey[SpeechInput] = ServiceKey("ivr.speech")
