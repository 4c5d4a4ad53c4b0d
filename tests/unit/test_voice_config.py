"""The shipped voice configuration validates, and the plugin offers the VOICE service to the menu engine."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from ivr.voice.config import VoiceConfigError, load_config
from ivr.voice.interface import VOICE


def test_shipped_config_names_an_engine_per_language() -> None:
    config = load_config()
    assert {lang: spec.engine for lang, spec in config.languages.items()} == {"en": "pocketsphinx", "ko": "vosk"}
    assert config.languages["en"].yes_words[0] == "yes" and config.languages["en"].no_words[0] == "no"
    assert config.confidence.confirm < config.confidence.accept


def test_a_bad_config_names_the_file_and_the_field(tmp_path: Path) -> None:
    bad = tmp_path / "voice.yaml"
    bad.write_text("languages:\n  en: {engine: whisper, yes_words: [y], no_words: [n]}\n")
    with pytest.raises(VoiceConfigError, match=r"(?s)voice.yaml.*languages.en.engine"):
        load_config(bad)


def test_the_plugin_provides_the_voice_service(controller_parts: SimpleNamespace) -> None:
    service = controller_parts.core.services.get(VOICE)
    assert service.available("en") is False  # nothing loaded before the controller starts
