"""The AudioSocket wire format (Asterisk's ``res_audiosocket``): 1-byte kind, 2-byte big-endian length,
payload.

Read for a hostile peer, as ``hotline/fastagi.py`` reads AGI: a kind we do not know, a length over the
bound, a short payload, EOF and a peer that goes quiet all end the connection with a typed error instead
of a hang or an unbounded buffer.
"""

from __future__ import annotations

import asyncio
import enum
import struct
import uuid
from dataclasses import dataclass

HEADER = struct.Struct(">BH")
SAMPLE_RATE = 8000
FRAME_MS = 20
FRAME_BYTES = SAMPLE_RATE * FRAME_MS // 1000 * 2  # 320: 20 ms of signed-linear 16-bit mono at 8 kHz
MAX_PAYLOAD = 4096  # Asterisk sends 320-byte audio frames; anything far larger is not AudioSocket


class Kind(enum.IntEnum):
    hangup = 0x00
    uuid = 0x01
    dtmf = 0x03
    audio = 0x10  # signed linear, 8 kHz: what the AudioSocket application always uses
    error = 0xFF


class FrameError(Exception):
    """The peer broke the protocol (unknown kind, bad length, truncated payload)."""


class PeerGone(FrameError):
    """EOF or a reset: the connection is over."""


class PeerSilent(FrameError):
    """Nothing arrived within the read timeout."""


@dataclass(frozen=True)
class Frame:
    kind: Kind
    payload: bytes = b""

    def encode(self) -> bytes:
        return encode(self.kind, self.payload)

    @property
    def digit(self) -> str:
        return self.payload[:1].decode("ascii", errors="replace") if self.kind is Kind.dtmf else ""

    @property
    def uuid(self) -> uuid.UUID:
        if self.kind is not Kind.uuid or len(self.payload) != 16:
            raise FrameError("not a 16-byte UUID frame")
        return uuid.UUID(bytes=self.payload)


def encode(kind: Kind, payload: bytes = b"") -> bytes:
    if len(payload) > 0xFFFF:
        raise ValueError("AudioSocket payload over 65535 bytes")
    return HEADER.pack(kind, len(payload)) + payload


HANGUP = encode(Kind.hangup)


async def read_frame(reader: asyncio.StreamReader, timeout: float, max_payload: int = MAX_PAYLOAD) -> Frame:
    """One frame, or ``PeerGone`` / ``PeerSilent`` / ``FrameError``; the whole frame must arrive within
    ``timeout`` (a peer trickling bytes is as silent as one sending none)."""
    try:
        async with asyncio.timeout(timeout):
            header = await reader.readexactly(HEADER.size)
            kind_byte, length = HEADER.unpack(header)
            try:
                kind = Kind(kind_byte)
            except ValueError:
                raise FrameError(f"unknown AudioSocket kind 0x{kind_byte:02x}") from None
            if length > max_payload:
                raise FrameError(f"AudioSocket {kind.name} frame of {length} bytes (limit {max_payload})")
            payload = await reader.readexactly(length) if length else b""
    except asyncio.IncompleteReadError as e:
        raise PeerGone("AudioSocket peer closed the connection" + (" mid-frame" if e.partial else "")) from e
    except TimeoutError as e:  # before OSError, of which it is a subclass
        raise PeerSilent(f"no complete AudioSocket frame within {timeout} s") from e
    except (ConnectionError, OSError) as e:
        raise PeerGone(f"AudioSocket connection failed: {e!r}") from e
    if kind is Kind.uuid and length != 16:
        raise FrameError(f"UUID frame of {length} bytes")
    if kind is Kind.dtmf and length != 1:
        raise FrameError(f"DTMF frame of {length} bytes")
    return Frame(kind, payload)
