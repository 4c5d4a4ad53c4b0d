"""FastAGI over a real socket: the test plays Asterisk."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

from hotline import fastagi
from hotline.fastagi import AgiError, AgiHangup, AgiSession, FastAgiServer, read_environment

ENV = (
    b"agi_network: yes\n"
    b"agi_network_script: ivr\n"
    b"agi_request: agi://127.0.0.1/ivr\n"
    b"agi_channel: PJSIP/carrier-00000001\n"
    b"agi_uniqueid: 1700000000.1\n"
    b"agi_callerid: 13800138000\n"
    b"agi_accountcode: \n"
    b"\n"
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Harness:
    """A server whose ``ivr`` route runs ``self.script`` and records what it saw."""

    def __init__(self, server: FastAgiServer) -> None:
        self.server = server
        self.sessions: list[AgiSession] = []
        self.outcomes: list[Any] = []  # each command's result, or the exception it raised
        self.script: Callable[[AgiSession], Awaitable[None]] | None = None
        server.route("/ivr/", self.handle)

    async def handle(self, session: AgiSession) -> None:
        self.sessions.append(session)
        if self.script is not None:
            await self.script(session)

    async def connect(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        return await asyncio.open_connection("127.0.0.1", self.server.port)

    async def session_with(self, env: bytes) -> AgiSession:
        """The session the server made of ``env`` (no commands: the handler ends, the socket closes)."""
        reader, writer = await self.connect()
        writer.write(env)
        await writer.drain()
        await closed_by_server(reader)
        writer.close()
        return self.sessions[-1]

    async def converse(self, script: Callable[[AgiSession], Awaitable[None]], replies: list[bytes]) -> list[str]:
        """Run ``script`` on a session where the test plays Asterisk with ``replies``; the commands it sent."""
        self.script = script
        reader, writer = await self.connect()
        writer.write(ENV)
        sent = await answer(reader, writer, replies)
        assert await closed_by_server(reader) == b""
        writer.close()
        return sent

    async def record(self, call: Awaitable[Any]) -> None:
        try:
            self.outcomes.append(await call)
        except AgiError as e:
            self.outcomes.append(e)


@pytest.fixture
async def agi() -> AsyncIterator[Harness]:
    server = FastAgiServer("127.0.0.1", free_port())
    await server.start()
    try:
        yield Harness(server)
    finally:
        await server.stop()


async def answer(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, replies: list[bytes], timeout: float = 2.0
) -> list[str]:
    """Play Asterisk: for each command the server sends, send the next scripted reply."""
    received: list[str] = []
    for reply in replies:
        line = await asyncio.wait_for(reader.readline(), timeout)
        assert line, f"server closed the socket after {received}"
        received.append(line.decode().rstrip("\n"))
        writer.write(reply)
        await writer.drain()
    return received


async def closed_by_server(reader: asyncio.StreamReader, timeout: float = 2.0) -> bytes:
    """Everything the server still sends until it closes the socket (fails if it does not)."""
    data = b""
    with contextlib.suppress(ConnectionError):
        async with asyncio.timeout(timeout):
            while chunk := await reader.read(4096):
                data += chunk
    return data


async def test_environment_reaches_the_routed_handler(agi: Harness) -> None:
    reader, writer = await agi.connect()
    writer.write(ENV)
    await writer.drain()
    assert await closed_by_server(reader) == b""
    writer.close()
    assert len(agi.sessions) == 1
    session = agi.sessions[0]
    assert session.uniqueid == "1700000000.1"
    assert session.caller_number == "13800138000"
    assert session.env["agi_channel"] == "PJSIP/carrier-00000001"
    assert session.env["agi_accountcode"] == ""
    assert agi.server.sessions_total == 1
    assert agi.server.active == 0


async def test_script_with_slashes_and_query_string_is_routed(agi: Harness) -> None:
    session = await agi.session_with(ENV.replace(b"agi_network_script: ivr", b"agi_network_script: /ivr?lang=zh"))
    assert session.script == "/ivr?lang=zh" and len(agi.sessions) == 1


async def test_commands_and_replies(agi: Harness) -> None:
    async def script(s: AgiSession) -> None:
        await agi.record(s.set_variable("HOTLINE_QUEUE", 'say "hi"\\now'))
        await agi.record(s.get_data("/p/main", 5000, 1))
        await agi.record(s.get_data("/p/main", 5000, 1))
        await agi.record(s.stream_file("/p/welcome", "0123"))
        await agi.record(s.stream_file("/p/welcome"))
        await agi.record(s.get_variable("CALLERID(name)"))
        await agi.record(s.get_variable("NOPE"))

    sent = await agi.converse(
        script,
        [
            b"200 result=1\n",
            b"200 result=3\n",
            b"200 result= (timeout)\n",
            b"200 result=49 endpos=16000\n",
            b"200 result=0 endpos=16000\n",
            b"200 result=1 (Li Wei)\n",
            b"200 result=0\n",
        ],
    )
    assert sent == [
        'SET VARIABLE HOTLINE_QUEUE "say \\"hi\\"\\\\now"',
        "GET DATA /p/main 5000 1",
        "GET DATA /p/main 5000 1",
        'STREAM FILE /p/welcome "0123"',
        'STREAM FILE /p/welcome ""',
        "GET VARIABLE CALLERID(name)",
        "GET VARIABLE NOPE",
    ]
    assert agi.outcomes == [None, ("3", False), ("", True), "1", "", "Li Wei", None]
    assert agi.sessions[0].hung_up is False


async def test_several_variables_go_in_one_mset_and_what_needs_quoting_alone(agi: Harness) -> None:
    async def script(s: AgiSession) -> None:
        await s.set_variables({"HOTLINE_QUEUE": "vip", "HOTLINE_IVR_PATH": "main:1>agent", "HOTLINE_WAYBILL": "a,b"})
        await s.set_variables({"HOTLINE_TIER": "gold"})  # one alone: SET VARIABLE, no MSet
        await s.set_variables({"HOTLINE_A": "1", "HOTLINE_B": "2"})  # MSet refused (-2): one by one instead

    sent = await agi.converse(script, [b"200 result=0\n"] * 3 + [b"200 result=-2\n"] + [b"200 result=1\n"] * 2)
    assert sent == [
        'EXEC MSet "HOTLINE_QUEUE=vip,HOTLINE_IVR_PATH=main:1>agent"',
        'SET VARIABLE HOTLINE_WAYBILL "a,b"',
        'SET VARIABLE HOTLINE_TIER "gold"',
        'EXEC MSet "HOTLINE_A=1,HOTLINE_B=2"',
        'SET VARIABLE HOTLINE_A "1"',
        'SET VARIABLE HOTLINE_B "2"',
    ]


async def test_arguments_from_the_dialplan_are_read_in_order(agi: Harness) -> None:
    session = await agi.session_with(ENV.replace(b"\n\n", b"\nagi_arg_1: vip\nagi_arg_2: \nagi_arg_3: main:1,2\n\n"))
    assert session.args == ["vip", "", "main:1,2"]


async def test_reply_parsing_keeps_result_data_and_extra(agi: Harness) -> None:
    async def script(s: AgiSession) -> None:
        await agi.record(s.command("GET DATA x 1000 1"))

    agi.script = script
    reader, writer = await agi.connect()
    writer.write(ENV)
    await answer(reader, writer, [b"200 result=0 (timeout)\r\n"])
    await closed_by_server(reader)
    writer.close()
    reply = agi.outcomes[0]
    assert (reply.code, reply.result, reply.data, reply.extra, reply.value) == (200, "0", "timeout", "", 0)


async def test_hangup_notice_marks_session_and_next_command_is_refused(agi: Harness) -> None:
    async def script(s: AgiSession) -> None:
        await agi.record(s.stream_file("/p/welcome"))
        agi.outcomes.append(s.hung_up)
        await agi.record(s.get_data("/p/main", 5000, 1))

    agi.script = script
    reader, writer = await agi.connect()
    writer.write(ENV)
    await answer(reader, writer, [b"HANGUP\n200 result=0 endpos=100\n"])
    # the refused command must not reach Asterisk
    assert await closed_by_server(reader) == b""
    writer.close()
    assert agi.outcomes[:2] == ["", True]
    assert isinstance(agi.outcomes[2], AgiHangup)


@pytest.mark.parametrize(
    ("reply", "error", "hung_up"),
    [
        (b"511 Command Not Permitted on a dead channel or intercept routine\n", AgiHangup, True),
        (b"200 result=-1\n", AgiHangup, True),
        (b"520 Invalid command syntax.  Proper usage not available.\n", AgiError, False),
        (b"510 Invalid or unknown command\n", AgiError, False),
    ],
)
async def test_error_replies(agi: Harness, reply: bytes, error: type[AgiError], hung_up: bool) -> None:
    async def script(s: AgiSession) -> None:
        await agi.record(s.command("GET DATA /p/main 5000 1"))
        agi.outcomes.append(s.hung_up)

    agi.script = script
    reader, writer = await agi.connect()
    writer.write(ENV)
    await answer(reader, writer, [reply])
    await closed_by_server(reader)
    writer.close()
    outcome, flag = agi.outcomes
    assert type(outcome) is error
    assert flag is hung_up


async def test_multi_line_usage_error_is_consumed_whole(agi: Harness) -> None:
    """Asterisk's 520- usage text spans lines: after the error the session reads the next reply cleanly."""

    async def script(s: AgiSession) -> None:
        await agi.record(s.command("GET DATA"))
        await agi.record(s.get_variable("X"))

    agi.script = script
    reader, writer = await agi.connect()
    writer.write(ENV)
    await answer(
        reader,
        writer,
        [
            b"520-Invalid command syntax.  Proper usage follows:\n"
            b" Usage: GET DATA <file to be streamed> [timeout] [maxdigits]\n"
            b"520 End of proper usage.\n",
            b"200 result=1 (yes)\n",
        ],
    )
    await closed_by_server(reader)
    writer.close()
    assert isinstance(agi.outcomes[0], AgiError) and "520" in str(agi.outcomes[0])
    assert agi.outcomes[1] == "yes"


async def test_socket_closed_mid_command_is_a_hangup(agi: Harness) -> None:
    async def script(s: AgiSession) -> None:
        await agi.record(s.get_data("/p/main", 5000, 1))

    agi.script = script
    reader, writer = await agi.connect()
    writer.write(ENV)
    assert (await asyncio.wait_for(reader.readline(), 2)).startswith(b"GET DATA")
    writer.close()
    await writer.wait_closed()
    for _ in range(100):
        if agi.outcomes:
            break
        await asyncio.sleep(0.01)
    assert isinstance(agi.outcomes[0], AgiHangup)
    assert agi.sessions[0].hung_up is True


async def test_multi_line_command_is_rejected(agi: Harness) -> None:
    async def script(s: AgiSession) -> None:
        with pytest.raises(ValueError):
            await s.command("ANSWER\nHANGUP")
        agi.outcomes.append("rejected")

    agi.script = script
    reader, writer = await agi.connect()
    writer.write(ENV)
    assert await closed_by_server(reader) == b""
    writer.close()
    assert agi.outcomes == ["rejected"]


async def test_failing_handler_still_closes_the_socket_and_server_survives(agi: Harness) -> None:
    async def script(s: AgiSession) -> None:
        raise RuntimeError("boom")

    agi.script = script
    for _ in range(2):
        reader, writer = await agi.connect()
        writer.write(ENV)
        assert await closed_by_server(reader) == b""
        writer.close()
    assert len(agi.sessions) == 2
    assert agi.server.listening
    assert agi.server.active == 0


GARBAGE = {
    "not agi lines": b"hello there\n\n",
    "non-agi key among agi ones": b"agi_network_script: ivr\nagi_uniqueid: 1\nHost: example.com\n\n",
    "agi key without separator": b"agi_uniqueid 1700000000.1\n\n",
    "no ids before the blank line": b"agi_channel: PJSIP/x\n\n",
    "eof before the blank line": b"agi_uniqueid: 1\nagi_network_script: ivr\n",
    "eof mid line": b"agi_uniqueid: 1\nagi_network_script: iv",
    "oversized line": b"agi_uniqueid: " + b"9" * 20_000 + b"\n\n",
    "eof at once": b"",
}


@pytest.mark.parametrize("data", GARBAGE.values(), ids=GARBAGE.keys())
async def test_bad_environment_closes_without_calling_the_handler(agi: Harness, data: bytes) -> None:
    reader, writer = await agi.connect()
    with contextlib.suppress(ConnectionError):
        writer.write(data)
        writer.write_eof()
        await writer.drain()
    assert await closed_by_server(reader) == b""
    writer.close()
    assert agi.sessions == []
    # the server is still there for the next call
    reader, writer = await agi.connect()
    writer.write(ENV)
    await closed_by_server(reader)
    writer.close()
    assert len(agi.sessions) == 1
    assert agi.server.active == 0


async def test_unknown_route_closes_without_calling_any_handler(agi: Harness) -> None:
    reader, writer = await agi.connect()
    writer.write(ENV.replace(b"agi_network_script: ivr", b"agi_network_script: billing"))
    await writer.drain()
    assert await closed_by_server(reader) == b""
    writer.close()
    assert agi.sessions == []
    assert agi.server.sessions_total == 1


async def test_stop_stops_listening() -> None:
    server = FastAgiServer("127.0.0.1", free_port())
    await server.start()
    assert server.listening
    await server.stop()
    assert not server.listening
    with pytest.raises(OSError):
        await asyncio.open_connection("127.0.0.1", server.port)


# read_environment on its own


def fed(data: bytes, eof: bool = True, limit: int = 2**16) -> asyncio.StreamReader:
    reader = asyncio.StreamReader(limit=limit)
    reader.feed_data(data)
    if eof:
        reader.feed_eof()
    return reader


async def test_read_environment_parses_lines() -> None:
    env = await read_environment(fed(b"agi_uniqueid: 1.2\r\nagi_request: agi://h/ivr?a: b\r\nagi_rdnis: \r\n\r\nrest"))
    assert env == {"agi_uniqueid": "1.2", "agi_request": "agi://h/ivr?a: b", "agi_rdnis": ""}


async def test_read_environment_leaves_the_commands_phase_unread() -> None:
    reader = fed(b"agi_network_script: ivr\n\n200 result=1\n")
    assert await read_environment(reader) == {"agi_network_script": "ivr"}
    assert await reader.readline() == b"200 result=1\n"


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\n",
        b"agi_uniqueid: 1\n",
        b"agi_uniqueid: 1",
        b"x: y\n\n",
        b"agi_uniqueid: 1\nfoo: bar\n\n",
        b"agi_uniqueid=1\n\n",
    ],
)
async def test_read_environment_rejects(data: bytes) -> None:
    assert await read_environment(fed(data)) is None


async def test_read_environment_bounds_line_count() -> None:
    lines = b"".join(b"agi_arg_%d: x\n" % i for i in range(fastagi.MAX_ENV_LINES))
    assert await read_environment(fed(b"agi_uniqueid: 1\n" + lines + b"\n")) is None
    shorter = b"".join(b"agi_arg_%d: x\n" % i for i in range(fastagi.MAX_ENV_LINES - 2))
    env = await read_environment(fed(b"agi_uniqueid: 1\n" + shorter + b"\n"))
    assert env is not None and len(env) == fastagi.MAX_ENV_LINES - 1


async def test_read_environment_bounds_line_length() -> None:
    assert await read_environment(fed(b"agi_uniqueid: " + b"1" * 500 + b"\n\n", limit=100)) is None


async def test_read_environment_times_out(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fastagi, "ENV_TIMEOUT", 0.05)
    reader = fed(b"agi_uniqueid: 1\n", eof=False)
    assert await asyncio.wait_for(read_environment(reader), 2) is None
