"""The menus' speech hook over the voice questions: grammar from the options' words, keys as they are,
unsure words asked again, speech only where the language's menus listen."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ivr.voice.config import Language, VoiceConfig
from ivr.voice.interface import Answer
from ivr.voice.menus import MenuSpeech

MENU = {"1": ["track", "parcel"], "0": ["agent"]}


class Voice:
    def __init__(self, answer: Answer, available: bool = True) -> None:
        self.answer = answer
        self.up = available
        self.asked: list[dict[str, Any]] = []

    def available(self, language: str) -> bool:
        return self.up

    async def ask(self, agi: Any, prompts: list[str], keywords: dict[str, str], dtmf: str, language: str,
                  timeout: float, fallback_dtmf: bool = True) -> Answer:  # fmt: skip
        self.asked.append({"prompts": prompts, "keywords": keywords, "dtmf": dtmf, "timeout": timeout})
        return self.answer

    async def ask_digits(self, agi: Any, prompts: list[str], language: str, timeout: float, n: int) -> Answer:
        self.asked.append({"prompts": prompts, "digits": n, "timeout": timeout})
        return self.answer


def config(menus: bool, digits: dict[str, str] | None = None) -> VoiceConfig:
    english = Language(engine="pocketsphinx", yes_words=["yes"], no_words=["no"], menus=menus, digits=digits or {})
    return VoiceConfig(languages={"en": english})


async def test_a_spoken_keyword_chooses_its_option_and_keys_still_work() -> None:
    voice = Voice(Answer(kind="speech", option="1", text="parcel", confidence=0.9))
    speech = MenuSpeech(voice, config(menus=True))
    answer = await speech.ask(None, Path("/p/main_menu"), MENU, "en", 5000)  # type: ignore[arg-type]
    assert (answer.key, answer.by, answer.heard) == ("1", "speech", "parcel")
    assert voice.asked[0]["keywords"] == {"track": "1", "parcel": "1", "agent": "0"}
    assert voice.asked[0]["prompts"] == ["/p/main_menu"] and voice.asked[0]["timeout"] == 5.0
    assert set("0123456789*#") == set(voice.asked[0]["dtmf"])
    voice.answer = Answer(kind="dtmf", option=None, text="4")
    assert (await speech.ask(None, Path("/p/m"), MENU, "en", 5000)).key == "4"  # type: ignore[arg-type]


async def test_unsure_or_unmatched_speech_is_asked_again_and_silence_is_no_input() -> None:
    speech = MenuSpeech(Voice(Answer(kind="speech", option="0", text="agent", needs_confirmation=True)), config(True))
    unsure = await speech.ask(None, Path("/p/m"), MENU, "en", 5000)  # type: ignore[arg-type]
    assert unsure.key is None and unsure.heard == "agent"  # the menu plays "invalid" and asks again
    speech.voice = Voice(Answer(kind="nomatch", text="hmm"))
    assert (await speech.ask(None, Path("/p/m"), MENU, "en", 5000)).by == "speech"  # type: ignore[arg-type]
    speech.voice = Voice(Answer(kind="timeout"))
    quiet = await speech.ask(None, Path("/p/m"), MENU, "en", 5000)  # type: ignore[arg-type]
    assert quiet.key is None and quiet.heard is None  # the menu plays "no input"


def test_menus_listen_only_where_configured_and_the_engine_is_up() -> None:
    up = Voice(Answer(kind="timeout"))
    assert MenuSpeech(up, config(menus=True)).supports("en")
    assert not MenuSpeech(up, config(menus=False)).supports("en")
    assert not MenuSpeech(up, config(menus=True)).supports("zh")
    assert not MenuSpeech(Voice(Answer(kind="timeout"), available=False), config(menus=True)).supports("en")


async def test_digits_are_said_or_keyed_only_where_the_language_has_digit_words() -> None:
    words = {"one": "1", "oh": "0"}
    said = Voice(Answer(kind="speech", option="100", text="one oh oh"))
    speech = MenuSpeech(said, config(menus=True, digits=words))
    assert speech.supports_digits("en")
    assert not MenuSpeech(said, config(menus=True)).supports_digits("en")  # no digit words: keys only
    assert not MenuSpeech(said, config(menus=False, digits=words)).supports_digits("en")
    answer = await speech.ask_digits(None, Path("/p/code"), "en", 8000, 6)  # type: ignore[arg-type]
    assert (answer.key, answer.by, answer.heard) == ("100", "speech", "one oh oh")
    assert said.asked == [{"prompts": ["/p/code"], "digits": 6, "timeout": 8.0}]
    keyed = MenuSpeech(Voice(Answer(kind="dtmf", option="100020", text="100020")), config(True, words))
    assert (await keyed.ask_digits(None, Path("/p/code"), "en", 8000, 6)).key == "100020"  # type: ignore[arg-type]
    unheard = MenuSpeech(Voice(Answer(kind="nomatch", text="")), config(True, words))
    assert (await unheard.ask_digits(None, Path("/p/code"), "en", 8000, 6)).key is None  # type: ignore[arg-type]
