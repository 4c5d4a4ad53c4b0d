"""The AudioSocket codec and server against a hostile peer: garbage, huge lengths, EOF, slow peers, and the
pairing of connections with questions by UUID."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from ivr.voice.frames import HANGUP, Frame, FrameError, Kind, PeerGone, PeerSilent, encode, read_frame
from ivr.voice.server import AudioSocketServer


def reader_of(data: bytes, eof: bool = True) -> asyncio.StreamReader:
    r = asyncio.StreamReader()
    r.feed_data(data)
    if eof:
        r.feed_eof()
    return r


async def test_frames_round_trip() -> None:
    uid = uuid.uuid4()
    data = encode(Kind.uuid, uid.bytes) + encode(Kind.audio, b"\x01\x02" * 160) + encode(Kind.dtmf, b"5") + HANGUP
    r = reader_of(data)
    assert (await read_frame(r, 1)).uuid == uid
    audio = await read_frame(r, 1)
    assert audio == Frame(Kind.audio, b"\x01\x02" * 160)
    assert (await read_frame(r, 1)).digit == "5"
    assert (await read_frame(r, 1)).kind is Kind.hangup
    with pytest.raises(PeerGone):
        await read_frame(r, 1)


async def test_unknown_kind_is_refused() -> None:
    with pytest.raises(FrameError, match="unknown AudioSocket kind 0x47"):
        await read_frame(reader_of(b"GET / HTTP/1.1\r\n\r\n"), 1)


async def test_huge_length_is_refused_before_reading_the_payload() -> None:
    r = reader_of(bytes([Kind.audio]) + (60000).to_bytes(2, "big"), eof=False)  # no payload ever sent
    with pytest.raises(FrameError, match="60000 bytes"):
        await read_frame(r, 1)


@pytest.mark.parametrize("data", [b"\x10", b"\x10\x01\x40" + b"\0" * 100])
async def test_eof_mid_frame(data: bytes) -> None:
    with pytest.raises(PeerGone, match="mid-frame"):
        await read_frame(reader_of(data), 1)


async def test_slow_peer_times_out_even_while_trickling() -> None:
    r = asyncio.StreamReader()

    async def trickle() -> None:
        for b in encode(Kind.audio, b"\0" * 320):
            r.feed_data(bytes([b]))
            await asyncio.sleep(0.01)

    task = asyncio.create_task(trickle())
    with pytest.raises(PeerSilent):
        await read_frame(r, 0.2)
    task.cancel()


@pytest.mark.parametrize("frame", [encode(Kind.uuid, b"short"), encode(Kind.dtmf, b"12")])
async def test_malformed_uuid_or_dtmf(frame: bytes) -> None:
    with pytest.raises(FrameError):
        await read_frame(reader_of(frame), 1)


@pytest.fixture
async def server() -> AudioSocketServer:
    s = AudioSocketServer("127.0.0.1", 0, uuid_timeout=0.3)
    await s.start()
    yield s  # type: ignore[misc]
    await s.stop()


async def connect(server: AudioSocketServer, first: bytes) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    writer.write(first)
    await writer.drain()
    return reader, writer


async def test_connections_pair_with_their_question_by_uuid(server: AudioSocketServer) -> None:
    a, b = uuid.uuid4(), uuid.uuid4()
    fut_a, fut_b = server.expect(a), server.expect(b)
    _, wb = await connect(server, encode(Kind.uuid, b.bytes) + encode(Kind.audio, b"B" * 320))
    _, wa = await connect(server, encode(Kind.uuid, a.bytes) + encode(Kind.audio, b"A" * 320))
    link_a, link_b = await asyncio.wait_for(fut_a, 2), await asyncio.wait_for(fut_b, 2)
    assert link_a.uuid == a and link_b.uuid == b
    assert (await link_a.read(1)).payload == b"A" * 320
    assert (await link_b.read(1)).payload == b"B" * 320
    await link_a.end()
    await link_b.end()
    for w in (wa, wb):
        w.close()


async def test_ending_a_link_sends_hangup_then_closes(server: AudioSocketServer) -> None:
    uid = uuid.uuid4()
    fut = server.expect(uid)
    reader, writer = await connect(server, encode(Kind.uuid, uid.bytes))
    link = await asyncio.wait_for(fut, 2)
    link.send_audio(b"\0" * 320)
    await link.end()
    assert (await read_frame(reader, 1)).kind is Kind.audio
    assert (await read_frame(reader, 1)).kind is Kind.hangup
    assert await reader.read() == b""
    writer.close()


@pytest.mark.parametrize(
    "first",
    [
        encode(Kind.uuid, uuid.uuid4().bytes),  # nobody waits for it
        encode(Kind.audio, b"\0" * 320),  # audio before the UUID
        b"\xff\xff\xff garbage",
        b"",  # says nothing at all
    ],
)
async def test_connections_without_a_waiting_question_are_ended(server: AudioSocketServer, first: bytes) -> None:
    expected = server.expect(uuid.uuid4())  # someone else's question stays waiting
    reader, writer = await connect(server, first)
    async with asyncio.timeout(2):
        rest = await reader.read()
    assert rest == HANGUP
    assert server.rejected_total == 1 and server.active == 0
    assert not expected.done()
    writer.close()
