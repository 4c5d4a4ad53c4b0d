"""FastAGI server: Asterisk connects, sends its ``agi_*`` environment, then we drive the channel.

Written for hostile input rather than taken from panoramisk: the environment is bounded in size,
lines and time; EOF, garbage and a hung-up channel end the session cleanly; a handler's failure
never leaves the socket open (Asterisk holds the channel's hangup until the socket closes).
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field

from hotline.logs import bind_call, get_logger

log = get_logger(__name__)

MAX_ENV_LINES = 200
MAX_LINE = 4096
ENV_TIMEOUT = 5.0
REPLY_TIMEOUT = 120.0  # the longest an AGI command can take (a prompt plus a digit timeout)

_RESULT = re.compile(r"^200 result=(-?\d*)(?: \((.*)\))?(?: (.*))?$")


class AgiError(Exception):
    """The AGI conversation failed: bad reply, usage error or dead socket."""


class AgiHangup(AgiError):
    """The channel hung up (or Asterisk closed the socket)."""


@dataclass
class AgiReply:
    code: int
    result: str
    data: str = ""
    extra: str = ""

    @property
    def value(self) -> int:
        try:
            return int(self.result)
        except ValueError:
            return -1


@dataclass
class AgiSession:
    env: dict[str, str]
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    hung_up: bool = field(default=False)

    @property
    def uniqueid(self) -> str:
        return self.env.get("agi_uniqueid", "")

    @property
    def caller_number(self) -> str:
        return self.env.get("agi_callerid", "")

    @property
    def args(self) -> list[str]:
        """The arguments the dialplan passed after the script's address (``agi_arg_1`` …)."""
        args: list[str] = []
        while (arg := self.env.get(f"agi_arg_{len(args) + 1}")) is not None:
            args.append(arg)
        return args

    @property
    def script(self) -> str:
        return self.env.get("agi_network_script", "")

    async def command(self, line: str, timeout: float = REPLY_TIMEOUT) -> AgiReply:
        if self.hung_up:
            raise AgiHangup("channel already hung up")
        if "\n" in line or "\r" in line:
            raise ValueError("AGI command must be one line")
        self.writer.write(line.encode() + b"\n")
        try:
            await self.writer.drain()
            while True:
                text = await self._read_line(timeout)
                if text == "HANGUP":  # notice sent by Asterisk when the channel hangs up mid-command
                    self.hung_up = True
                    continue
                if text.startswith("520-"):  # multi-line usage error: consume it whole
                    while not text.startswith("520 "):
                        text = await self._read_line(timeout)
                return self._parse(text)
        except (ConnectionError, TimeoutError) as e:
            self.hung_up = True
            raise AgiHangup(f"AGI socket failed: {e!r}") from e
        except ValueError as e:  # a reply line over the stream's limit
            self.hung_up = True
            raise AgiError(f"AGI reply too long: {e}") from e

    async def _read_line(self, timeout: float) -> str:
        raw = await asyncio.wait_for(self.reader.readline(), timeout)
        if not raw:
            self.hung_up = True
            raise AgiHangup("socket closed by Asterisk")
        return raw[:MAX_LINE].decode(errors="replace").rstrip("\r\n")

    def _parse(self, text: str) -> AgiReply:
        if text.startswith("511"):
            self.hung_up = True
            raise AgiHangup(text)
        if text.startswith("520"):
            raise AgiError(f"AGI usage error: {text}")
        m = _RESULT.match(text)
        if not m:
            raise AgiError(f"unexpected AGI reply: {text[:200]!r}")
        reply = AgiReply(200, m.group(1), m.group(2) or "", m.group(3) or "")
        if reply.result == "-1":
            self.hung_up = True
            raise AgiHangup(f"command failed, channel gone: {text}")
        return reply

    # the commands the IVR uses
    async def set_variable(self, name: str, value: str) -> None:
        await self.command(f'SET VARIABLE {name} "{_quote(value)}"')

    async def set_variables(self, values: Mapping[str, str]) -> None:
        """Several variables in as few round trips as can be trusted: those whose names and values need no
        quoting in one ``EXEC MSet`` (MSet splits on commas and strips quotes), the others one by one."""
        plain = {k: v for k, v in values.items() if _MSET_NAME.fullmatch(k) and _MSET_VALUE.fullmatch(v)}
        if len(plain) > 1:
            reply = await self.command(f'EXEC MSet "{",".join(f"{k}={v}" for k, v in plain.items())}"')
            if reply.result == "0":
                values = {k: v for k, v in values.items() if k not in plain}
            else:
                log.warning("MSet refused: setting the variables one by one", result=reply.result)
        for name, value in values.items():
            await self.set_variable(name, value)

    async def get_variable(self, name: str) -> str | None:
        reply = await self.command(f"GET VARIABLE {name}")
        return reply.data if reply.result == "1" else None

    async def get_data(self, prompt: str, timeout_ms: int, max_digits: int) -> tuple[str, bool]:
        """Play a prompt and collect digits. Returns (digits, timed_out)."""
        reply = await self.command(f"GET DATA {prompt} {timeout_ms} {max_digits}")
        return reply.result, reply.data == "timeout"

    async def stream_file(self, prompt: str, escape_digits: str = "") -> str:
        """Play a prompt; returns the digit that interrupted it, or ''."""
        reply = await self.command(f'STREAM FILE {prompt} "{escape_digits}"')
        return chr(reply.value) if reply.value > 0 else ""

    async def record_file(self, path: str, max_ms: int, silence_s: int = 3) -> str:
        """Record the caller after a beep into ``path``.wav until # , ``silence_s`` of silence or ``max_ms``;
        returns how it ended (``dtmf``, ``timeout``, ``hangup`` or Asterisk's result text)."""
        reply = await self.command(f'RECORD FILE {path} wav "#" {max_ms} BEEP s={silence_s}', max_ms / 1000 + 30)
        return reply.data or reply.extra or reply.result


_MSET_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
_MSET_VALUE = re.compile(r"[A-Za-z0-9_.:>@+/-]*")  # no separators, quotes, blanks or backslashes


def _quote(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ")


Handler = Callable[[AgiSession], Awaitable[None]]


class FastAgiServer:
    def __init__(self, host: str, port: int) -> None:
        self.host = host
        self.port = port
        self.routes: dict[str, Handler] = {}
        self._server: asyncio.Server | None = None
        self.active = 0
        self.sessions_total = 0

    def route(self, script: str, handler: Handler) -> None:
        self.routes[script.strip("/")] = handler

    @property
    def listening(self) -> bool:
        return self._server is not None and self._server.is_serving()

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, self.host, self.port, limit=MAX_LINE * 2)
        log.info("FastAGI listening", host=self.host, port=self.port)

    async def stop(self) -> None:
        if self._server:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.active += 1
        self.sessions_total += 1
        try:
            env = await read_environment(reader)
            if env is None:
                log.warning("FastAGI: bad or incomplete environment", peer=str(writer.get_extra_info("peername")))
                return
            session = AgiSession(env, reader, writer)
            with bind_call(session.uniqueid):
                handler = self.routes.get(session.script.strip("/").split("?")[0])
                if handler is None:
                    log.error("FastAGI: no route", script=session.script)
                    return
                try:
                    await handler(session)
                except AgiHangup as e:
                    log.info("caller hung up during AGI", reason=str(e))
                except Exception:
                    log.exception("AGI handler failed", script=session.script)
        finally:
            self.active -= 1
            writer.close()
            try:
                await writer.wait_closed()
            except (ConnectionError, OSError):
                pass


async def read_environment(reader: asyncio.StreamReader) -> dict[str, str] | None:
    """Read ``agi_x: y`` lines up to the blank line; None on EOF, garbage, overflow or timeout."""
    env: dict[str, str] = {}
    try:
        async with asyncio.timeout(ENV_TIMEOUT):
            for _ in range(MAX_ENV_LINES):
                raw = await reader.readline()
                if not raw or not raw.endswith(b"\n"):
                    return None
                line = raw.decode(errors="replace").rstrip("\r\n")
                if line == "":
                    return env if "agi_uniqueid" in env or "agi_network_script" in env else None
                key, sep, value = line.partition(": ")
                if not sep or not key.startswith("agi_"):
                    return None
                env[key] = value
    except (TimeoutError, ValueError, asyncio.LimitOverrunError, ConnectionError):
        return None
    return None
