"""The menu engine's speech hook (``ivr.interface.SPEECH``) served by the voice questions (``VOICE``).

A menu option's words in a language become the grammar; a key is accepted as it is; a keyword heard with
middling confidence is not taken: the menu says it did not understand and asks again (keys or words).
Speech that cannot be
used (engine down, AudioSocket failing) falls back to the keypad inside the question itself, so the
caller is asked again by keys rather than handed to a person.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from hotline.fastagi import AgiSession
from ivr.interface import Answer
from ivr.voice.config import VoiceConfig
from ivr.voice.interface import VoiceQuestions

KEYS = "0123456789*#"


class MenuSpeech:
    def __init__(self, voice: VoiceQuestions, config: VoiceConfig) -> None:
        self.voice = voice
        self.config = config

    def supports(self, language: str) -> bool:
        spec = self.config.languages.get(language)
        return spec is not None and spec.menus and self.voice.available(language)

    async def ask(
        self, agi: AgiSession, prompt: Path, keywords: Mapping[str, list[str]], language: str, timeout_ms: int
    ) -> Answer:
        words = {word: key for key, said in keywords.items() for word in said}
        answer = await self.voice.ask(agi, [str(prompt)], words, KEYS, language, timeout_ms / 1000)
        if answer.kind == "dtmf":
            return Answer(key=answer.text or None, by="dtmf")
        if answer.kind != "speech" or answer.option is None:
            return Answer(by="speech" if answer.kind == "nomatch" else "none", heard=answer.text or None)
        if answer.needs_confirmation:  # not sure enough: asked again
            return Answer(by="speech", heard=answer.text, confidence=answer.confidence)
        return Answer(key=answer.option, by="speech", heard=answer.text, confidence=answer.confidence)

    def supports_digits(self, language: str) -> bool:
        spec = self.config.languages.get(language)
        return spec is not None and bool(spec.digits) and self.supports(language)

    async def ask_digits(
        self, agi: AgiSession, prompt: Path, language: str, timeout_ms: int, max_digits: int
    ) -> Answer:
        answer = await self.voice.ask_digits(agi, [str(prompt)], language, timeout_ms / 1000, max_digits)
        if answer.kind in ("speech", "dtmf") and answer.option:
            return Answer(key=answer.option, by="speech" if answer.kind == "speech" else "dtmf", heard=answer.text)
        return Answer(by="speech" if answer.kind == "nomatch" else "none", heard=answer.text or None)
