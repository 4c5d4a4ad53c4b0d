"""``VoiceService.ask``: one voice question inside the IVR's FastAGI session.

The AGI session runs ``EXEC AudioSocket <uuid>,<host>:<port>``; Asterisk connects to our AudioSocket
server and presents the UUID; the question waiting for it plays the prompt and listens (question.py);
ending the link makes the application return and the AGI session go on. Whatever fails on the speech side
(engine not loaded or crashed or slow, a word it does not know, prompt audio it cannot read, AudioSocket
not connecting) the question is asked again through Asterisk's own keypad collection: never a dropped call.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from concurrent.futures import Executor
from dataclasses import dataclass, replace
from typing import Any

from hotline.fastagi import AgiHangup, AgiSession
from hotline.logs import get_logger
from ivr.voice.audio import PromptAudio, PromptError
from ivr.voice.config import VoiceConfig
from ivr.voice.engines.base import EngineError, Recogniser
from ivr.voice.interface import Answer
from ivr.voice.question import Outcome, Question
from ivr.voice.server import AudioSocketServer, Link

log = get_logger(__name__)

AGI_MARGIN_S = 10.0


@dataclass
class Engine:
    recogniser: Recogniser
    state: str = "idle"  # idle (loaded on first need) | loading | ready | failed
    error: str | None = None
    loading: asyncio.Task[None] | None = None
    load_s: float | None = None


class VoiceService:
    def __init__(
        self,
        config: VoiceConfig,
        server: AudioSocketServer,
        engines: dict[str, Engine],
        pool: Executor,
        audio: PromptAudio | None = None,
    ) -> None:
        self.config = config
        self.server = server
        self.engines = engines
        self.pool = pool
        self.audio = audio or PromptAudio()
        self.answers: Counter[str] = Counter()
        self.fallbacks: Counter[str] = Counter()
        self._checked: dict[tuple[str, tuple[str, ...]], list[str]] = {}

    def available(self, language: str) -> bool:
        """Whether questions in ``language`` can listen: an engine that is ready or can still be loaded."""
        engine = self.engines.get(language)
        return engine is not None and engine.state != "failed" and self.server.listening

    def warm(self, language: str) -> asyncio.Task[None] | None:
        """Start loading ``language``'s model in a worker thread unless it is loaded or loading already."""
        engine = self.engines.get(language)
        if engine is None or engine.state in ("ready", "failed"):
            return None
        if engine.state == "idle":
            engine.state = "loading"
            engine.loading = asyncio.get_running_loop().create_task(self._load(language, engine), name="voice-model")
        return engine.loading

    async def _load(self, language: str, engine: Engine) -> None:
        loop = asyncio.get_running_loop()
        started = loop.time()
        try:
            await loop.run_in_executor(self.pool, engine.recogniser.load)
        except Exception as e:  # a missing or broken model: that language answers by keypad
            engine.state, engine.error = "failed", f"{type(e).__name__}: {e}"
            log.error("speech engine failed to load", language=language, error=engine.error)
            return
        engine.state, engine.load_s = "ready", loop.time() - started
        log.info("speech engine ready", language=language, engine=engine.recogniser.engine, s=round(engine.load_s, 2))

    async def confirm(self, agi: AgiSession, prompts: list[str], language: str, timeout: float) -> bool | None:
        lang = self.config.languages.get(language)
        words = {w: "yes" for w in lang.yes_words} | {w: "no" for w in lang.no_words} if lang else {}
        answer = await self.ask(agi, prompts, words, "12", language, timeout)
        if answer.kind == "dtmf":
            return {"1": True, "2": False}.get(answer.text)
        if answer.kind == "speech" and answer.option in ("yes", "no"):
            return answer.option == "yes"
        return None

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
        try:
            engine = await self._usable(language, keywords)
            pcm = await asyncio.to_thread(self.audio.load, prompts)
        except (EngineError, PromptError) as e:
            return await self._fallback(agi, prompts, dtmf, timeout, str(e), fallback_dtmf)
        outcome = await self._over_audiosocket(agi, pcm, engine.recogniser, keywords, dtmf, timeout)
        if outcome.kind in ("failed", "gone"):
            return await self._fallback(agi, prompts, dtmf, timeout, outcome.error or outcome.kind, fallback_dtmf)
        assert outcome.kind != "gone"
        answer = Answer(
            kind=outcome.kind,
            option=outcome.option,
            text=outcome.text,
            confidence=outcome.confidence,
            ms_after_speech_end=outcome.ms_after_speech_end,
            needs_confirmation=outcome.needs_confirmation,
            barged_in=outcome.barged_in,
        )
        self.answers[answer.kind] += 1
        log.info(
            "voice answer",
            kind=answer.kind,
            option=answer.option,
            text=answer.text,
            confidence=round(answer.confidence, 3),
            ms_after_speech_end=None if answer.ms_after_speech_end is None else round(answer.ms_after_speech_end, 1),
            barged_in=answer.barged_in,
        )
        return answer

    async def ask_digits(
        self, agi: AgiSession, prompts: list[str], language: str, timeout: float, max_digits: int
    ) -> Answer:
        """Play ``prompts`` and take up to ``max_digits`` digits, said one by one (the language's ``digits``
        words) or keyed (ended by #, the last digit or a silence of ``timeout``). ``option`` holds the digits.
        Speech that cannot be used falls back to Asterisk's keypad collection, as ``ask`` does."""
        lang = self.config.languages.get(language)
        words = dict(lang.digits) if lang else {}
        try:
            if not words:
                raise EngineError(f"no spoken digits for language {language!r}")
            engine = await self._usable(language, words)
            pcm = await asyncio.to_thread(self.audio.load, prompts)
        except (EngineError, PromptError) as e:
            return await self._fallback(agi, prompts, "", timeout, str(e), True, max_digits)
        outcome = await self._over_audiosocket(agi, pcm, engine.recogniser, words, "", timeout, max_digits)
        if outcome.kind in ("failed", "gone"):
            return await self._fallback(agi, prompts, "", timeout, outcome.error or outcome.kind, True, max_digits)
        assert outcome.kind != "gone"
        self.answers[f"digits {outcome.kind}"] += 1
        log.info("voice digits", kind=outcome.kind, digits=outcome.option, text=outcome.text,
                 confidence=round(outcome.confidence, 3))  # fmt: skip
        return Answer(
            kind=outcome.kind,
            option=outcome.option,
            text=outcome.text,
            confidence=outcome.confidence,
            ms_after_speech_end=outcome.ms_after_speech_end,
            barged_in=outcome.barged_in,
        )

    async def _usable(self, language: str, keywords: dict[str, str]) -> Engine:
        engine = self.engines.get(language)
        if engine is None:
            raise EngineError(f"no speech engine for language {language!r}")
        loading = self.warm(language)
        if loading is not None:  # the first question of a language waits a bounded time for its model
            await asyncio.wait({loading}, timeout=self.config.load_wait_s)
        if engine.state != "ready":
            raise EngineError(f"{engine.recogniser.engine} for {language!r} is {engine.state}: {engine.error or ''}")
        if not self.server.listening:
            raise EngineError("AudioSocket server not listening")
        if not keywords:
            raise EngineError("no keywords to listen for")
        key = (language, tuple(sorted(keywords)))
        if key not in self._checked:
            loop = asyncio.get_running_loop()
            self._checked[key] = await loop.run_in_executor(self.pool, engine.recogniser.missing_words, list(keywords))
        if self._checked[key]:
            raise EngineError(f"words unknown to the {language!r} model: {', '.join(self._checked[key])}")
        return engine

    async def _over_audiosocket(
        self,
        agi: AgiSession,
        pcm: bytes,
        recogniser: Recogniser,
        keywords: dict[str, str],
        dtmf: str,
        timeout: float,
        digits: int = 0,
    ) -> Outcome:
        c = self.config
        uid = uuid.uuid4()
        arrival = self.server.expect(uid)
        cap = len(pcm) / 16000 + timeout + c.vad.max_speech_ms / 1000 + c.connect_timeout_s + AGI_MARGIN_S
        run = asyncio.create_task(agi.command(f"EXEC AudioSocket {uid},{self.server.address}", timeout=cap))
        link: Link | None = None
        try:
            waiting: set[asyncio.Future[Any]] = {arrival, run}
            done, _ = await asyncio.wait(waiting, timeout=c.connect_timeout_s, return_when="FIRST_COMPLETED")
            if arrival in done and not arrival.cancelled():
                link = arrival.result()
                question = Question(
                    link, pcm, recogniser, keywords, dtmf, timeout, self.pool, c.vad.settings(), c.confidence,
                    c.decode_timeout_s, second_pass=c.vad.second_pass, digits=digits,
                )  # fmt: skip
                outcome = await question.run()
            else:
                outcome = Outcome("failed", error="AudioSocket did not connect")
        finally:
            self.server.forget(uid)
            if link is not None:
                await link.end()
        if not await self._application_returned(agi, run):
            return replace(outcome, kind="failed", error=outcome.error or "AudioSocket application failed")
        return outcome

    async def _application_returned(self, agi: AgiSession, run: asyncio.Task[object]) -> bool:
        """Wait for ``EXEC AudioSocket`` to return. True: it ended normally. False: it failed but the channel
        is still up. Raises ``AgiHangup`` when the caller is gone."""
        try:
            await run
            return True
        except AgiHangup as e:
            if "command failed" not in str(e):
                raise
        # result=-1: the application failed, which is also how it reports the caller hanging up; Asterisk
        # sends its HANGUP notice before answering the next command, so one NOOP tells the two apart
        agi.hung_up = False
        await agi.command("NOOP")
        if agi.hung_up:
            raise AgiHangup("caller hung up during the voice question")
        return False

    async def _fallback(
        self,
        agi: AgiSession,
        prompts: list[str],
        dtmf: str,
        timeout: float,
        error: str,
        fallback: bool,
        max_digits: int = 0,
    ) -> Answer:
        self.fallbacks[error.split(":")[0][:60]] += 1
        log.warning("voice question falls back to the keypad", error=error, fallback=fallback)
        if not fallback:
            return Answer("failed", error=error)
        digit = ""
        for prompt in prompts[:-1]:
            digit = await agi.stream_file(prompt, dtmf)
            if digit:
                break
        if not digit and prompts:
            digit, _ = await agi.get_data(prompts[-1], int(timeout * 1000), max_digits or 1)
        if not digit:
            return Answer("timeout", fallback=True, error=error)
        if max_digits:
            return Answer("dtmf", option=digit, text=digit, fallback=True, error=error)
        return Answer("dtmf", option=digit if digit in dtmf else None, text=digit, fallback=True, error=error)

    def health(self) -> dict[str, object]:
        return {
            "listening": self.server.listening,
            "engines": {
                lang: {
                    "engine": e.recogniser.engine,
                    "state": e.state,
                    "error": e.error,
                    "load_s": e.load_s,
                    **e.recogniser.stats(),
                }
                for lang, e in self.engines.items()
            },
            "answers": dict(self.answers),
            "fallbacks": dict(self.fallbacks),
        }
