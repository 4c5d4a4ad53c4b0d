"""The AudioSocket server: Asterisk's ``AudioSocket(uuid,host:port)`` connects here, sends the UUID first,
then the caller's audio and DTMF; we pair the connection with the question waiting for that UUID.

A connection that does not start with a UUID frame in time, names a UUID nobody waits for, or breaks the
protocol is ended at once (a hang-up frame, then close): the AudioSocket application then returns and the
AGI session that ran it goes on.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid

from hotline.logs import get_logger
from ivr.voice.frames import HANGUP, Frame, FrameError, Kind, encode, read_frame

log = get_logger(__name__)

UUID_TIMEOUT = 2.0  # Asterisk sends the UUID frame as soon as it connects


class Link:
    """One paired connection: the caller's side of a voice question."""

    def __init__(self, uid: uuid.UUID, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.uuid = uid
        self.reader = reader
        self.writer = writer
        self.done = asyncio.Event()

    async def read(self, timeout: float) -> Frame:
        return await read_frame(self.reader, timeout)

    def send_audio(self, chunk: bytes) -> None:
        """Queue one frame of slin audio (the caller hears it as soon as Asterisk reads it: pace the calls)."""
        self.writer.write(encode(Kind.audio, chunk))

    async def drain(self, timeout: float = 1.0) -> None:
        async with asyncio.timeout(timeout):
            await self.writer.drain()

    async def end(self) -> None:
        """Tell Asterisk we are done (the AudioSocket application returns 0 and the dialplan goes on)."""
        if not self.done.is_set():
            self.done.set()
            with contextlib.suppress(ConnectionError, OSError, RuntimeError):
                self.writer.write(HANGUP)
                await self.drain(0.5)
        await _close(self.writer)


async def _close(writer: asyncio.StreamWriter) -> None:
    writer.close()
    with contextlib.suppress(ConnectionError, OSError, TimeoutError):
        async with asyncio.timeout(1.0):
            await writer.wait_closed()


class AudioSocketServer:
    def __init__(self, host: str = "127.0.0.1", port: int = 0, uuid_timeout: float = UUID_TIMEOUT) -> None:
        self.host = host
        self.requested_port = port  # 0: any free port (the AGI command names the real one)
        self.uuid_timeout = uuid_timeout
        self._server: asyncio.Server | None = None
        self._waiting: dict[uuid.UUID, asyncio.Future[Link]] = {}
        self.connections_total = 0
        self.rejected_total = 0
        self.active = 0

    @property
    def port(self) -> int:
        if self._server is None or not self._server.sockets:
            raise RuntimeError("AudioSocket server not started")
        return int(self._server.sockets[0].getsockname()[1])

    @property
    def listening(self) -> bool:
        return self._server is not None and self._server.is_serving()

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, self.host, self.requested_port)
        log.info("AudioSocket listening", host=self.host, port=self.port)

    async def stop(self) -> None:
        if self._server:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        for fut in self._waiting.values():
            fut.cancel()
        self._waiting.clear()

    def expect(self, uid: uuid.UUID) -> asyncio.Future[Link]:
        """A future resolved with the connection that presents ``uid``; call ``forget`` when done."""
        fut: asyncio.Future[Link] = asyncio.get_running_loop().create_future()
        self._waiting[uid] = fut
        return fut

    def forget(self, uid: uuid.UUID) -> None:
        fut = self._waiting.pop(uid, None)
        if fut is not None and not fut.done():
            fut.cancel()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections_total += 1
        self.active += 1
        link: Link | None = None
        try:
            try:
                first = await read_frame(reader, self.uuid_timeout)
                uid = first.uuid
            except FrameError as e:
                self._reject(writer, f"no UUID first: {e}")
                return
            fut = self._waiting.pop(uid, None)
            if fut is None or fut.done():
                self._reject(writer, f"no question waits for {uid}")
                return
            link = Link(uid, reader, writer)
            fut.set_result(link)
            await link.done.wait()  # the question owns the streams until it ends the link
        finally:
            self.active -= 1
            if link is None or not link.done.is_set():
                with contextlib.suppress(ConnectionError, OSError, RuntimeError):
                    writer.write(HANGUP)
            await _close(writer)

    def _reject(self, writer: asyncio.StreamWriter, why: str) -> None:
        self.rejected_total += 1
        log.warning("AudioSocket connection refused", reason=why, peer=str(writer.get_extra_info("peername")))
