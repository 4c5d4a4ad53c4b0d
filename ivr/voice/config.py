"""The voice configuration (``voice.yaml``), validated at load."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, Field, ValidationError

from ivr.voice.vad import VadSettings

DEFAULT_CONFIG = Path(__file__).with_name("voice.yaml")
CONFIG_ENV = "HOTLINE_VOICE_CONFIG"


class Vad(BaseModel):
    threshold_dbfs: float = Field(default=-45.0, ge=-90, le=-10)
    margin_db: float = Field(default=12.0, ge=0, le=40)
    onset_ms: int = Field(default=60, ge=20, le=1000)
    pause_ms: int = Field(default=60, ge=20, le=2000)
    end_ms: int = Field(default=450, ge=100, le=3000)
    max_speech_ms: int = Field(default=8000, ge=1000, le=30000)
    # an unsure decode at the pause is decoded again in one pass before waiting for ``end_ms``
    second_pass: bool = True

    def settings(self) -> VadSettings:
        return VadSettings(**self.model_dump(exclude={"second_pass"}))


class Confidence(BaseModel):
    accept: float = Field(default=0.6, ge=0, le=1)
    confirm: float = Field(default=0.35, ge=0, le=1)


class Language(BaseModel):
    engine: Literal["vosk", "pocketsphinx"]
    model: Path | None = None
    decoders: int = Field(default=2, ge=1, le=16)
    yes_words: list[str] = Field(min_length=1)
    no_words: list[str] = Field(min_length=1)
    # spoken digits (collect nodes, with ``menus``): each word → its digit; empty: digits are keyed only
    digits: dict[str, str] = {}
    # the menus of this language listen for their options' keywords (off: keys only; the test line still
    # listens): grammar-bound recognisers have no garbage model, so any speech maps to some option
    menus: bool = False


class TestLine(BaseModel):
    language: str
    prompt: str
    keywords: dict[str, str]
    dtmf: dict[str, str] = {}
    timeout_ms: int = Field(default=6000, ge=1000, le=30000)


class VoiceConfig(BaseModel):
    host: str = "127.0.0.1"
    port: int = Field(default=0, ge=0, le=65535)
    threads: int = Field(default=2, ge=1, le=16)
    connect_timeout_s: float = Field(default=3.0, gt=0, le=30)
    decode_timeout_s: float = Field(default=2.0, gt=0, le=30)
    # models load on first need (languages whose menus listen: at start, in the background); the first
    # question of a language waits this long for its model, then uses the keypad while it goes on loading
    load_wait_s: float = Field(default=2.0, ge=0, le=30)
    vad: Vad = Vad()
    confidence: Confidence = Confidence()
    languages: dict[str, Language] = {}
    test_line: TestLine | None = None


class VoiceConfigError(ValueError):
    pass


def config_path() -> Path:
    return Path(os.environ.get(CONFIG_ENV) or DEFAULT_CONFIG)


def load_config(path: Path | None = None) -> VoiceConfig:
    path = path or config_path()
    try:
        with path.open(encoding="utf-8") as f:
            return VoiceConfig.model_validate(yaml.safe_load(f) or {})
    except (OSError, yaml.YAMLError, ValidationError) as e:
        raise VoiceConfigError(f"{path}: {e}") from e
