"""ivr.voice's wiring: the AudioSocket server, the speech engines (loaded once per process, in a thread,
after the controller starts: questions asked before a language is ready use the keypad), the ``VOICE``
service for the menu engine, and the speech test line (AGI route ``voice-test``)."""

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
        self._loading: asyncio.Task[None] | None = None
        self._test_prompt: Path | None = None

    async def start(self) -> None:
        await self.server.start()
        self._loading = asyncio.create_task(self._load(), name="voice-models")
        if self.config.test_line is not None:
            prompts = {TEST_PROMPT: self.config.test_line.prompt}
            made = await asyncio.to_thread(ensure_prompts, prompts, self.core.settings.prompts_dir)
            self._test_prompt = made[TEST_PROMPT]
            self.core.agi.route("voice-test", self.test_line)

    async def _load(self) -> None:
        loop = asyncio.get_running_loop()
        for lang, engine in self.service.engines.items():
            started = loop.time()
            try:
                await loop.run_in_executor(self.pool, engine.recogniser.load)
            except Exception as e:  # a missing or broken model: that language answers by keypad
                engine.state, engine.error = "failed", f"{type(e).__name__}: {e}"
                log.error("speech engine failed to load", language=lang, error=engine.error)
                continue
            engine.state = "ready"
            log.info("speech engine ready", language=lang, engine=engine.recogniser.engine, s=loop.time() - started)

    async def stop(self) -> None:
        if self._loading is not None:
            self._loading.cancel()
        await self.server.stop()
        self.pool.shutdown(wait=False, cancel_futures=True)

    async def test_line(self, agi: AgiSession) -> None:
        """One voice question; its option (by voice or key) in ``HOTLINE_VOICE_OPTION`` and the log."""
        t = self.config.test_line
        assert t is not None and self._test_prompt is not None
        answer = await self.service.ask(
            agi, [str(self._test_prompt)], t.keywords, "".join(t.dtmf), t.language, t.timeout_ms / 1000
        )
        option = answer.option if answer.kind == "speech" else t.dtmf.get(answer.text, "")
        await agi.set_variable(ChannelVar.voice_option, option or "")
        log.info("voice test line", kind=answer.kind, option=option, text=answer.text, fallback=answer.fallback)

    def health(self) -> dict[str, Any]:
        return {"voice": self.service.health()}


def setup(core: Core) -> VoicePlugin:
    return VoicePlugin(core)
