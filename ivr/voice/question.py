"""One voice question over a paired AudioSocket link: play the prompt (paced 20 ms frames), listen at the
same time, stop the prompt the moment the caller speaks or keys a digit (barge-in), recognise what is said
off the event loop, and decide as soon as the caller stops.

Deciding early: at the first short pause after speech the utterance is decoded; a confident decision that
is a whole keyword is taken at once (tens of ms after the caller stops). An unsure one is decoded again in
one pass over everything heard (``second_pass``); only what is still unsure waits for the end of the
utterance. If the caller goes on speaking, a fresh utterance is fed everything heard so far.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import Literal, TypeVar

from hotline.logs import get_logger
from ivr.voice.config import Confidence
from ivr.voice.engines.base import EngineError, Hypothesis, Recogniser, Utterance
from ivr.voice.frames import FRAME_BYTES, FRAME_MS, Frame, FrameError, Kind, PeerGone
from ivr.voice.intent import Decision, decide
from ivr.voice.server import Link
from ivr.voice.vad import EnergyVad, Event, VadSettings

log = get_logger(__name__)

SILENCE = bytes(FRAME_BYTES)
PREROLL_FRAMES = 15  # 300 ms before the onset go to the recogniser too (the onset needs 60 ms to show)
T = TypeVar("T")

OutcomeKind = Literal["speech", "dtmf", "nomatch", "timeout", "failed", "gone"]


@dataclass(frozen=True)
class Outcome:
    kind: OutcomeKind
    option: str | None = None
    text: str = ""
    confidence: float = 0.0
    needs_confirmation: bool = False
    ms_after_speech_end: float | None = None
    barged_in: bool = False
    error: str | None = None


class Question:
    def __init__(
        self,
        link: Link,
        prompt: bytes,
        recogniser: Recogniser,
        keywords: dict[str, str],
        dtmf: str,
        no_input_s: float,
        pool: Executor,
        vad: VadSettings,
        confidence: Confidence,
        decode_timeout: float,
        clock: Callable[[], float] | None = None,
        second_pass: bool = True,
        digits: int = 0,
    ) -> None:
        self.link = link
        self.prompt = prompt
        self.recogniser = recogniser
        self.keywords = keywords
        self.phrases = list(keywords)
        self.dtmf = dtmf
        self.no_input_s = no_input_s
        self.pool = pool
        self.vad = EnergyVad(vad)
        self.conf = confidence
        self.decode_timeout = decode_timeout
        self.second_pass = second_pass
        # a digit string of up to ``digits`` (``keywords``: digit word → digit): said, or keyed and ended by
        # #, by the last digit, or by ``no_input_s`` after a key
        self.digits = digits
        self.keyed = ""
        self._key_deadline: float | None = None
        self.loop = asyncio.get_running_loop()
        self.clock = clock or self.loop.time
        self.prompt_playing = bool(prompt)
        self.prompt_over = asyncio.Event()
        self.barged_in = False
        self.frames_sent = 0
        self.utterance: Utterance | None = None
        self.heard: list[bytes] = []
        self.preroll: deque[bytes] = deque(maxlen=PREROLL_FRAMES)
        self.last_voiced_at: float | None = None
        self._engine_lock = asyncio.Lock()
        self._poisoned = False  # an engine call timed out: its thread may still use the utterance
        self._listen_deadline: float | None = None
        self._pending: tuple[Decision, Hypothesis] | None = None  # decided at a pause, not yet taken
        # whatever happens on the line (even no audio at all), the question ends by then
        prompt_s = len(prompt) / (FRAME_BYTES * 1000 / FRAME_MS)
        self._hard_deadline = self.clock() + prompt_s + no_input_s + vad.max_speech_ms / 1000 + 2.0
        if not prompt:
            self.prompt_over.set()

    # the engine, off the loop, one call at a time per question
    async def _engine(self, fn: Callable[..., T], *args: object) -> T:
        async with self._engine_lock:
            try:
                return await asyncio.wait_for(self.loop.run_in_executor(self.pool, fn, *args), self.decode_timeout)
            except TimeoutError:
                self._poisoned = True
                raise EngineError(f"speech engine took over {self.decode_timeout} s") from None
            except EngineError:
                raise
            except Exception as e:  # whatever the engine raises, the question goes on by keypad
                self._poisoned = True
                raise EngineError(f"speech engine failed: {e!r}") from e

    async def run(self) -> Outcome:
        inbox: asyncio.Queue[Frame | FrameError] = asyncio.Queue(maxsize=500)
        player = asyncio.create_task(self._play(), name="voice-prompt")
        reader = asyncio.create_task(self._read(inbox), name="voice-reader")
        try:
            return await self._listen(inbox)
        except EngineError as e:
            log.warning("speech engine failed during a question", error=str(e))
            return self._outcome("failed", error=str(e))
        finally:
            for task in (player, reader):
                task.cancel()
            await asyncio.gather(player, reader, return_exceptions=True)
            await self._drop_utterance()

    async def _drop_utterance(self) -> None:
        utt, self.utterance = self.utterance, None
        if utt is not None and not self._poisoned:
            with contextlib.suppress(Exception):
                await self._engine(utt.close)

    def barge_in(self) -> None:
        if self.prompt_playing:
            self.prompt_playing = False
            self.barged_in = True
            self.prompt_over.set()

    async def _play(self) -> None:
        """Paced 20 ms frames: the prompt, then silence (AudioSocket ends a link quiet for 2 s both ways)."""
        start = self.loop.time()
        pos = 0
        while True:
            if self.prompt_playing and pos < len(self.prompt):
                chunk = self.prompt[pos : pos + FRAME_BYTES].ljust(FRAME_BYTES, b"\0")
                pos += FRAME_BYTES
            else:
                if self.prompt_playing:
                    self.prompt_playing = False
                    self.prompt_over.set()
                chunk = SILENCE
            self.link.send_audio(chunk)
            self.frames_sent += 1
            await self.link.drain(2.0)
            await asyncio.sleep(max(0.0, start + self.frames_sent * FRAME_MS / 1000 - self.loop.time()))

    async def _read(self, inbox: asyncio.Queue[Frame | FrameError]) -> None:
        while True:
            try:
                frame = await self.link.read(timeout=30.0)
            except FrameError as e:
                await inbox.put(e)
                return
            await inbox.put(frame)

    def _remaining(self) -> float | None:
        """Seconds left for the caller to start answering; None while the prompt plays or speech goes on."""
        if not self.prompt_over.is_set() or self.vad.in_speech or self.heard or self.keyed:
            return None
        if self._listen_deadline is None:
            self._listen_deadline = self.clock() + self.no_input_s
        return self._listen_deadline - self.clock()

    async def _listen(self, inbox: asyncio.Queue[Frame | FrameError]) -> Outcome:
        while True:
            if self._key_deadline is not None and self.clock() >= self._key_deadline:
                return self._outcome("dtmf", option=self.keyed, text=self.keyed)
            remaining = self._remaining()
            if remaining is not None and remaining <= 0:
                return self._outcome("timeout")
            if self.clock() >= self._hard_deadline:
                if self.keyed:
                    return self._outcome("dtmf", option=self.keyed, text=self.keyed)
                return self._speech(*self._pending) if self._pending else self._outcome("timeout")
            try:
                item = await asyncio.wait_for(inbox.get(), timeout=min(remaining or 0.5, 0.5))
            except TimeoutError:
                continue
            if isinstance(item, PeerGone):
                return self._outcome("gone", error=str(item))
            if isinstance(item, FrameError):
                return self._outcome("failed", error=str(item))
            if item.kind is Kind.dtmf:
                self.barge_in()
                digit = item.digit
                if self.digits:
                    done = self._key(digit)
                    if done is not None:
                        return done
                    continue
                return self._outcome("dtmf", option=digit if digit in self.dtmf else None, text=digit)
            if item.kind is Kind.error:
                return self._outcome("failed", error="Asterisk sent an AudioSocket error frame")
            if item.kind is Kind.hangup:
                return self._outcome("gone", error="hang-up frame")
            if item.kind is Kind.audio and not self.keyed:  # keying: what is said meanwhile is not listened to
                outcome = await self._audio(item.payload)
                if outcome is not None:
                    return outcome

    async def _audio(self, pcm: bytes) -> Outcome | None:
        voiced, event = self.vad.feed(pcm)
        if voiced:
            self.last_voiced_at = self.clock()
        if not self.vad.in_speech and event is None and not self.heard:
            self.preroll.append(pcm)
            return None
        if event is Event.onset:
            self.barge_in()
            self.heard = [*self.preroll, pcm]
            self.preroll.clear()
            self.utterance = await self._engine(self.recogniser.start, self.phrases, bool(self.digits))
            await self._engine(self.utterance.feed, b"".join(self.heard))
            return None
        self.heard.append(pcm)
        if event is Event.resume and self.utterance is None:
            self.utterance = await self._engine(self.recogniser.start, self.phrases, bool(self.digits))
            await self._engine(self.utterance.feed, b"".join(self.heard))
            return None
        if self.utterance is not None:
            await self._engine(self.utterance.feed, pcm)
        if event is Event.pause and not self.digits:  # digits: pauses between them; decided at the end
            decision, hyp = await self._finish()
            if self.second_pass and getattr(self.recogniser, "decodes_whole", False) and not self._sure(decision):
                decision, hyp = await self._second_pass(decision, hyp)
            if self._sure(decision):
                return self._speech(decision, hyp)
            self._pending = (decision, hyp)
            return None
        if event in (Event.end, Event.too_long):
            if self.digits and self.utterance is not None:
                hyp = await self._finish_hyp()
                if getattr(self.recogniser, "decodes_whole", False):  # a string is better heard whole
                    hyp = await self._whole(True)
                return self._said_digits(hyp)
            if self.utterance is not None:
                return self._speech(*await self._finish())
            if self._pending is not None:
                return self._speech(*self._pending)
            return self._outcome("nomatch")
        return None

    def _sure(self, decision: Decision) -> bool:
        return decision.option is not None and decision.complete and decision.confidence >= self.conf.accept

    async def _second_pass(self, decision: Decision, hyp: Hypothesis) -> tuple[Decision, Hypothesis]:
        """The streamed decode was not sure at the pause: decode everything heard again in one pass (tens of
        ms for a keyword; PocketSphinx then normalises over the whole utterance instead of its live estimate)
        and keep the surer of the two, rather than wait ``end_ms`` of silence for the same answer. Only for
        engines with such a decode (``decodes_whole``): for the others it would be the same decode again."""
        again = await self._whole(False)
        second = decide(again, self.keywords)
        better = (second.complete, second.confidence) > (decision.complete, decision.confidence)
        return (second, again) if better else (decision, hyp)

    async def _whole(self, sequence: bool) -> Hypothesis:
        """Everything heard, decoded again in one pass (``decodes_whole`` engines)."""
        utt = await self._engine(self.recogniser.start, self.phrases, sequence)
        try:
            await self._engine(utt.feed_whole, b"".join(self.heard))  # type: ignore[attr-defined]
            return await self._engine(utt.finish)
        finally:
            if not self._poisoned:
                await self._engine(utt.close)

    async def _finish_hyp(self) -> Hypothesis:
        utt, self.utterance = self.utterance, None
        assert utt is not None
        return await self._engine(utt.finish)

    async def _finish(self) -> tuple[Decision, Hypothesis]:
        hyp = await self._finish_hyp()
        return decide(hyp, self.keywords), hyp

    def _said_digits(self, hyp: Hypothesis) -> Outcome:
        said = [(self.keywords[w.word.lower()], w.conf) for w in hyp.words if w.word.lower() in self.keywords]
        if not said:
            return self._outcome("nomatch", text=hyp.text)
        value = "".join(d for d, _ in said)  # too many is for the caller's validation to refuse
        confidence = min(c for _, c in said)  # a string is as sure as its least sure digit
        if confidence < self.conf.confirm:
            return self._outcome("nomatch", text=hyp.text, confidence=confidence)
        return self._outcome("speech", option=value, text=hyp.text, confidence=confidence)

    def _key(self, digit: str) -> Outcome | None:
        """A key in a digit question: the string goes on until #, its last digit or a silence."""
        if digit != "#":
            self.keyed += digit
        if digit == "#" or len(self.keyed) >= self.digits:
            return self._outcome("dtmf", option=self.keyed, text=self.keyed)
        self._key_deadline = self.clock() + self.no_input_s
        return None

    def _speech(self, decision: Decision, hyp: Hypothesis) -> Outcome:
        if decision.option is None or decision.confidence < self.conf.confirm:
            return self._outcome("nomatch", text=hyp.text, confidence=decision.confidence)
        return self._outcome(
            "speech",
            option=decision.option,
            text=hyp.text,
            confidence=decision.confidence,
            needs_confirmation=decision.confidence < self.conf.accept,
        )

    def _outcome(
        self,
        kind: OutcomeKind,
        option: str | None = None,
        text: str = "",
        confidence: float = 0.0,
        needs_confirmation: bool = False,
        error: str | None = None,
    ) -> Outcome:
        after = None
        if kind in ("speech", "nomatch") and self.last_voiced_at is not None:
            after = (self.clock() - self.last_voiced_at) * 1000
        return Outcome(kind, option, text, confidence, needs_confirmation, after, self.barged_in, error)
