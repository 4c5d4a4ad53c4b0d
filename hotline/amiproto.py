"""AMI wire format: cutting a byte stream into messages, peeking an event's name, parsing a message.

An AMI message is ``Key: Value`` lines ending in CRLF, closed by an empty line. Most events reaching the
controller are of no interest to it, so the reader looks at an event's name first (it is always the first
line Asterisk writes) and parses the rest only when someone wants it. Nothing here trusts the peer: the
buffer is bounded, and lines that are not ``Key: Value`` are ignored rather than fatal.
"""

from __future__ import annotations

from hotline.logs import get_logger

log = get_logger(__name__)

TERMINATOR = b"\r\n\r\n"
EVENT_PREFIX = b"Event: "
RESPONSE_PREFIX = b"Response: "
MAX_MESSAGE = 1 << 20  # an AMI message larger than 1 MiB is not a message


class Framer:
    """Bytes in, complete message blocks out (without their closing empty line).

    A message still unterminated past ``max_message`` bytes is dropped, logged, and everything up to the
    next message boundary is skipped with it: memory stays bounded whatever the peer sends.
    """

    __slots__ = ("_buf", "_discarding", "dropped", "max_message")

    def __init__(self, max_message: int = MAX_MESSAGE) -> None:
        self._buf = bytearray()
        self._discarding = False
        self.max_message = max_message
        self.dropped = 0

    @property
    def pending(self) -> int:
        """Bytes buffered waiting for the end of a message."""
        return len(self._buf)

    def feed(self, data: bytes) -> list[bytes]:
        buf = self._buf
        # the buffer holds no terminator: a new one ends in the new bytes (it may start up to 3 bytes before)
        start = len(buf) - 3 if len(buf) > 3 else 0
        buf += data
        end = buf.rfind(TERMINATOR, start)
        if end < 0:
            if len(buf) > self.max_message:
                self._overflow()
            return []
        blocks = bytes(buf[:end]).split(TERMINATOR)
        del buf[: end + 4]
        if self._discarding:
            del blocks[0]  # the tail of the message dropped for its size
            self._discarding = False
        if len(buf) > self.max_message:
            self._overflow()
        return blocks

    def _overflow(self) -> None:
        if not self._discarding:
            self.dropped += 1
            log.error("AMI message over the size limit without an end; dropped", size=len(self._buf))
        self._discarding = True
        del self._buf[:-3]  # keep what could be the start of the terminator


def event_name(block: bytes) -> bytes | None:
    """The value of the first line when it is ``Event: …``, without parsing the rest."""
    if not block.startswith(EVENT_PREFIX):
        return None
    eol = block.find(b"\r\n", 7)
    return block[7:eol] if eol >= 0 else block[7:]


def parse(block: bytes) -> dict[str, str]:
    """A message as a dict of str. A repeated header keeps its FIRST value: Asterisk writes a channel's own
    headers first, and a dialplan-supplied UserEvent header of the same name must not shadow them. Lines
    without ``": "`` are ignored; bytes that are not UTF-8 are replaced, never fatal."""
    fields: dict[str, str] = {}
    for line in block.decode("utf-8", "replace").split("\r\n"):
        key, sep, value = line.partition(": ")
        if sep and key not in fields:
            fields[key] = value
    return fields


def encode_action(fields: dict[str, str]) -> bytes:
    """One action on the wire. A CR or LF inside a key or value would let it smuggle in headers or a
    second action: refused."""
    lines = []
    for key, value in fields.items():
        if "\r" in key or "\n" in key or "\r" in value or "\n" in value or ":" in key:
            raise ValueError(f"AMI field {key!r} holds a line break or a colon in its name")
        lines.append(f"{key}: {value}\r\n")
    lines.append("\r\n")
    return "".join(lines).encode("utf-8")
