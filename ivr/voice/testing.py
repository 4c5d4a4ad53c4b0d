"""Asterisk's side of AudioSocket and of the FastAGI command that starts it, for tests and the benchmark:
what ``AudioSocket(uuid,host:port)`` does on a channel, without a PBX."""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from dataclasses import dataclass, field

from hotline.fastagi import AgiHangup, AgiReply
from ivr.voice.frames import FRAME_BYTES, FRAME_MS, FrameError, Kind, encode, read_frame

SILENCE = bytes(FRAME_BYTES)


@dataclass
class Caller:
    """What the caller says and keys: ``audio`` (slin 8 kHz) streamed in real time from the start, then
    silence; ``dtmf`` keyed from ``dtmf_at`` seconds after the connection, a key every ``dtmf_gap``
    seconds. ``speed`` > 1 streams faster."""

    audio: bytes = b""
    dtmf: str = ""
    dtmf_at: float = 0.0
    dtmf_gap: float = 0.25
    speed: float = 1.0
    silence_after: bool = True
    heard: list[tuple[float, bytes]] = field(default_factory=list)  # (monotonic time, frame) of the prompt
    sent_speech_end: float | None = None  # monotonic time the last frame of ``audio`` was sent
    ended_by_server: bool = False
    started: float | None = None  # monotonic time the first frame of ``audio`` was sent


async def audiosocket_call(host: str, port: int, uid: uuid.UUID, caller: Caller, limit: float = 30.0) -> None:
    """Connect like the AudioSocket application and run ``caller`` until the server ends the link."""
    reader, writer = await asyncio.open_connection(host, port)
    writer.write(encode(Kind.uuid, uid.bytes))

    async def talk() -> None:
        start = caller.started = time.monotonic()
        frames = [caller.audio[i : i + FRAME_BYTES] for i in range(0, len(caller.audio), FRAME_BYTES)]
        n = 0
        keyed = 0
        while frames or caller.silence_after:
            if keyed < len(caller.dtmf) and time.monotonic() - start >= caller.dtmf_at + keyed * caller.dtmf_gap:
                writer.write(encode(Kind.dtmf, caller.dtmf[keyed].encode()))
                keyed += 1
            chunk = frames.pop(0) if frames else SILENCE
            writer.write(encode(Kind.audio, chunk))
            if not frames and caller.sent_speech_end is None and caller.audio:
                caller.sent_speech_end = time.monotonic()
            await writer.drain()
            n += 1
            await asyncio.sleep(max(0.0, start + n * FRAME_MS / 1000 / caller.speed - time.monotonic()))

    async def listen() -> None:
        while True:
            try:
                frame = await read_frame(reader, timeout=limit)
            except FrameError:
                return
            if frame.kind is Kind.hangup:
                caller.ended_by_server = True
                return
            if frame.kind is Kind.audio:
                caller.heard.append((time.monotonic(), frame.payload))

    talker = asyncio.create_task(talk())
    try:
        async with asyncio.timeout(limit):
            await listen()
    finally:
        talker.cancel()
        with contextlib.suppress(asyncio.CancelledError, ConnectionError, OSError):
            await talker
        writer.close()
        with contextlib.suppress(ConnectionError, OSError):
            await writer.wait_closed()


class FakeAgi:
    """The FastAGI session as the voice service uses it. ``EXEC AudioSocket`` runs ``caller`` against the
    named server; ``keys`` answer the keypad fallback (GET DATA / STREAM FILE)."""

    def __init__(self, caller: Caller | None = None, keys: str = "", audiosocket_result: int = 0) -> None:
        self.caller = caller or Caller()
        self.keys = keys
        self.audiosocket_result = audiosocket_result
        self.hang_up_on_failure = False
        self.hung_up = False
        self.commands: list[str] = []

    async def command(self, line: str, timeout: float = 120.0) -> AgiReply:
        self.commands.append(line)
        if line.startswith("EXEC AudioSocket "):
            uid, _, address = line.split(" ", 2)[2].partition(",")
            host, _, port = address.rpartition(":")
            if self.audiosocket_result == 0:
                await audiosocket_call(host, int(port), uuid.UUID(uid), self.caller)
                return AgiReply(200, "0")
            self.hung_up = True
            raise AgiHangup("command failed, channel gone: 200 result=-1")
        if line == "NOOP" and self.hang_up_on_failure:
            self.hung_up = True
        return AgiReply(200, "0")

    async def stream_file(self, prompt: str, escape_digits: str = "") -> str:
        self.commands.append(f"STREAM FILE {prompt}")
        return ""

    async def get_data(self, prompt: str, timeout_ms: int, max_digits: int) -> tuple[str, bool]:
        self.commands.append(f"GET DATA {prompt} {timeout_ms} {max_digits}")
        return self.keys[:max_digits], not self.keys
