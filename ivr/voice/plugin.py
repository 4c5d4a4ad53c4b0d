"""ivr.voice's wiring: the AudioSocket server, the speech engines (each model loaded once per process, in a
worker thread, on first need; the languages whose menus listen at start, in the background), the ``VOICE``
service for the menu engine, and the speech test line (AGI route ``voice-test``, its prompt rendered on its
first call)."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from hotline.fastagi import AgiSession
from hotline.logs import get_logger
from hotline.plugins import Core, Plugin
from hotline.prompts import ensure_prompts
from hotline.routing import ChannelVar
from ivr.interface import SPEECH
from ivr.voice import engines
from ivr.voice.config import VoiceConfig, load_config
from ivr.voice.interface import VOICE
from ivr.voice.menus import MenuSpeech
from ivr.voice.server import AudioSocketServer
from ivr.voice.service import Engine, VoiceService

log = get_logger(__name__)

TEST_PROMPT = "voice_test"


class VoicePlugin(Plugin):
    def __init__(self, core: Core, config: VoiceConfig | None = None) -> None:
        self.core = core
        self.config = config or load_config()
        self.server = AudioSocketServer(self.config.host, self.config.port)
        self.pool = ThreadPoolExecutor(self.config.threads, thread_name_prefix="speech")
        built = {
            lang: Engine(engines.build(spec.engine, lang, spec.model, spec.decoders))
            for lang, spec in self.config.languages.items()
        }
        self.service = VoiceService(self.config, self.server, built, self.pool)
        core.services.provide(VOICE, self.service)
        core.services.provide(SPEECH, MenuSpeech(self.service, self.config))  # the menus' keywords
        self._test_prompt: Path | None = None

    async def start(self) -> None:
        await self.server.start()
        for lang, spec in self.config.languages.items():
            if spec.menus:  # every caller's first menu listens: loaded now, in the background
                self.service.warm(lang)
        if self.config.test_line is not None:
            self.core.agi.route("voice-test", self.test_line)

    async def _test_line_prompt(self) -> Path:
        """The test line's prompt, rendered (or found in the cache) the first time the line is called."""
        if self._test_prompt is None:
            assert self.config.test_line is not None
            prompts = {TEST_PROMPT: self.config.test_line.prompt}
            made = await asyncio.to_thread(ensure_prompts, prompts, self.core.settings.prompts_dir)
            self._test_prompt = made[TEST_PROMPT]
        return self._test_prompt

    async def stop(self) -> None:
        for engine in self.service.engines.values():
            if engine.loading is not None:
                engine.loading.cancel()
        await self.server.stop()
        self.pool.shutdown(wait=False, cancel_futures=True)

    async def test_line(self, agi: AgiSession) -> None:
        """One voice question; its option (by voice or key) in ``HOTLINE_VOICE_OPTION`` and the log."""
        t = self.config.test_line
        assert t is not None
        prompt = await self._test_line_prompt()
        answer = await self.service.ask(
            agi, [str(prompt)], t.keywords, "".join(t.dtmf), t.language, t.timeout_ms / 1000
        )
        option = answer.option if answer.kind == "speech" else t.dtmf.get(answer.text, "")
        await agi.set_variable(ChannelVar.voice_option, option or "")
        log.info("voice test line", kind=answer.kind, option=option, text=answer.text, fallback=answer.fallback)

    def health(self) -> dict[str, Any]:
        return {"voice": self.service.health()}


def setup(core: Core) -> VoicePlugin:
    return VoicePlugin(core)
