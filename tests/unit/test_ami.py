"""The AMI client: its framing on hostile input, and the client against a fake AMI server on 127.0.0.1."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from hotline.ami import AmiActionError, AmiClient, AmiUnavailable
from hotline.amiproto import MAX_MESSAGE, Framer, encode_action, event_name, parse

STREAM = (
    b"Event: Newchannel\r\nPrivilege: call,all\r\nChannel: PJSIP/carrier-1\r\nUniqueid: 1.1\r\n\r\n"
    b"Response: Success\r\nActionID: a-1\r\nPing: Pong\r\n\r\n"
    b"Event: UserEvent\r\nUniqueid: 1.1\r\nUserEvent: HotlineOutcome\r\nUniqueid: shadow\r\n\r\n"
    b"Event: Hangup\r\nUniqueid: 1.1\r\nCause: 16\r\n\r\n"
)


# ---- framing ---------------------------------------------------------------------------------------
def test_every_split_point_gives_the_same_messages() -> None:
    whole = Framer().feed(STREAM)
    assert len(whole) == 4
    for i in range(len(STREAM) + 1):
        framer = Framer()
        assert framer.feed(STREAM[:i]) + framer.feed(STREAM[i:]) == whole, f"split at {i}"
        assert framer.pending == 0
    framer = Framer()
    assert [b for i in range(len(STREAM)) for b in framer.feed(STREAM[i : i + 1])] == whole


def test_repeated_headers_keep_their_first_value() -> None:
    fields = parse(Framer().feed(STREAM)[2])
    assert fields == {"Event": "UserEvent", "Uniqueid": "1.1", "UserEvent": "HotlineOutcome"}


def test_event_name_is_peeked_without_parsing() -> None:
    blocks = Framer().feed(STREAM)
    assert [event_name(b) for b in blocks] == [b"Newchannel", None, b"UserEvent", b"Hangup"]
    assert event_name(b"Event: Bare") == b"Bare"


def test_garbage_lines_and_binary_are_harmless() -> None:
    fields = parse(b"no colon here\r\n\x00\xff\xfe: \x80\r\nKey:NoSpace\r\nCallerIDName: Zh\xe5ng\r\nGood: yes")
    assert fields["Good"] == "yes"
    assert fields["CallerIDName"] == "Zh\ufffdng"  # not UTF-8: replaced, never fatal
    assert "Key" not in fields and "no colon here" not in fields


def test_an_endless_message_is_dropped_and_what_follows_survives() -> None:
    framer = Framer()
    chunk = b"y" * (MAX_MESSAGE // 8)
    assert framer.feed(b"Event: Flood\r\nData: ") == []
    for _ in range(20):
        assert framer.feed(chunk) == []
        assert framer.pending <= MAX_MESSAGE + len(chunk)
    assert framer.dropped == 1
    # the flood ends with its terminator split across chunks; the next message is intact
    assert framer.feed(b"tail\r\n\r") == []
    assert framer.feed(b"\nEvent: Hangup\r\nUniqueid: 2.2\r\n\r\n") == [b"Event: Hangup\r\nUniqueid: 2.2"]
    assert framer.dropped == 1


def test_a_single_huge_chunk_is_bounded_too() -> None:
    framer = Framer()
    blocks = framer.feed(b"Event: A\r\n\r\n" + b"z" * (2 * MAX_MESSAGE))
    assert blocks == [b"Event: A"]
    assert framer.pending <= 3 and framer.dropped == 1


def test_actions_cannot_smuggle_lines() -> None:
    assert encode_action({"Action": "Ping", "ActionID": "1"}) == b"Action: Ping\r\nActionID: 1\r\n\r\n"
    with pytest.raises(ValueError):
        encode_action({"Action": "QueuePause", "Reason": "lunch\r\n\r\nAction: Originate"})


async def test_garbage_among_events_is_skipped_and_the_events_still_arrive() -> None:
    client = AmiClient("127.0.0.1", 1, "u", "s")
    seen: list[str] = []
    client.on("Hangup", lambda e: seen.append(e["Uniqueid"]))
    stream = (
        b"Asterisk Call Manager/9.0.0\r\n"
        b"Event: Hangup\r\nUniqueid: 1.1\r\n\r\n"
        b"no colon here at all\r\n\r\n"
        b"\x00\xff\xfe garbage: \x80\r\n\r\n"
        b"Privilege: call,all\r\nUniqueid: no-event\r\n\r\n"
        b"Event: Hangup\r\nEvent: Hangup\r\nUniqueid: 1.2\r\n\r\n"
        b"Event: Hangup\r\nUniqueid: 1.3\r\nCause-txt: " + b"x" * 100_000 + b"\r\n\r\n"
        b"\r\nEvent: Hangup\r\nUniqueid: 1.4\r\n\r\n"
        b"Event: Newstate\r\nUniqueid: 1.5\r\n\r\n"
    )
    for i in range(0, len(stream), 7):  # arbitrary chunking, as TCP delivers it
        client._feed(stream[i : i + 7])
    assert seen == ["1.1", "1.2", "1.3", "1.4"]
    assert client.events_received == 5
    assert client.events_dispatched == 4  # Newstate: nobody listens, never parsed
    assert client.garbage == 3


async def test_a_failing_handler_does_not_stop_the_others() -> None:
    client = AmiClient("127.0.0.1", 1, "u", "s")
    seen: list[str] = []

    def broken(e: dict[str, str]) -> None:
        raise KeyError("boom")

    client.on("Hangup", broken)
    client.on("Hangup", lambda e: seen.append("second:" + e["Uniqueid"]))
    client.on("Newstate", lambda e: seen.append("newstate:" + e["Uniqueid"]))
    client._feed(b"Event: Hangup\r\nUniqueid: 1\r\n\r\nEvent: Newstate\r\nUniqueid: 2\r\n\r\n")
    assert seen == ["second:1", "newstate:2"]


async def test_action_without_a_connection_is_refused() -> None:
    client = AmiClient("127.0.0.1", 1, "u", "s")
    assert not client.connected
    with pytest.raises(AmiUnavailable, match="QueueStatus"):
        await client.action("QueueStatus", as_list=True)


# ---- against a fake AMI server ---------------------------------------------------------------------
Reply = Callable[[dict[str, str]], list[bytes] | None]


class FakeAsterisk:
    """Answers Login (secret ``s``) and Ping; other actions by ``replies[name]`` (a list of raw messages
    to write, or None to stay silent). Records every action and counts logins."""

    def __init__(self) -> None:
        self.actions: list[dict[str, str]] = []
        self.logins = 0
        self.answer_pings = True
        self.booted = True
        self.replies: dict[str, Reply] = {}
        self.writers: list[asyncio.StreamWriter] = []
        self.server: asyncio.Server | None = None
        self.port = 0

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]

    async def close(self) -> None:
        self.drop()
        assert self.server is not None
        self.server.close()
        await self.server.wait_closed()

    def drop(self) -> None:
        for w in self.writers:
            w.close()
        self.writers.clear()

    def send(self, raw: bytes) -> None:
        for w in self.writers:
            w.write(raw)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.writers.append(writer)
        writer.write(b"Asterisk Call Manager/9.0.0\r\n")
        with contextlib.suppress(ConnectionError, asyncio.IncompleteReadError):
            while True:
                action = parse((await reader.readuntil(b"\r\n\r\n"))[:-4])
                self.actions.append(action)
                aid = action.get("ActionID", "")
                name = action.get("Action")
                if name == "Login":
                    ok = action.get("Secret") == "s" and action.get("Events") == "on"
                    if ok:
                        self.logins += 1
                    status = "Success\r\nMessage: Authentication accepted" if ok else "Error\r\nMessage: denied"
                    writer.write(f"Response: {status}\r\nActionID: {aid}\r\n\r\n".encode())
                    if ok and self.booted:  # as Asterisk does for a session that may read system events
                        writer.write(b"Event: FullyBooted\r\nPrivilege: system,all\r\nStatus: Fully Booted\r\n\r\n")
                elif name == "Ping":
                    if self.answer_pings:
                        writer.write(f"Response: Success\r\nActionID: {aid}\r\nPing: Pong\r\n\r\n".encode())
                elif name in self.replies:
                    for raw in self.replies[name](action) or []:
                        writer.write(raw.replace(b"{aid}", aid.encode()))
                else:
                    error = f"Response: Error\r\nActionID: {aid}\r\nMessage: Invalid/unknown command\r\n\r\n"
                    writer.write(error.encode())


@pytest.fixture
async def asterisk() -> AsyncIterator[FakeAsterisk]:
    fake = FakeAsterisk()
    await fake.start()
    yield fake
    await fake.close()


@contextlib.asynccontextmanager
async def running(client: AmiClient) -> AsyncIterator[AmiClient]:
    await client.start()
    try:
        yield client
    finally:
        await client.stop()


async def eventually(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "condition not met in time"
        await asyncio.sleep(0.01)


async def test_login_then_events_in_order(asterisk: FakeAsterisk) -> None:
    client = AmiClient("127.0.0.1", asterisk.port, "u", "s")
    seen: list[tuple[str, str]] = []
    connected: list[bool] = []
    client.on("Newchannel", lambda e: seen.append(("new", e["Uniqueid"])))
    client.on("Hangup", lambda e: seen.append(("hangup", e["Uniqueid"])))
    client.on_connected(lambda: connected.append(True))
    async with running(client):
        assert await client.wait_connected(5)
        assert connected == [True]
        assert asterisk.actions[0]["Username"] == "u" and asterisk.actions[0]["Events"] == "on"
        asterisk.send(b"Event: Newchannel\r\nUniqueid: 1\r\n\r\nEvent: VarSet\r\nUniqueid: 1\r\n\r\n")
        asterisk.send(b"Event: Hangup\r\nUniqueid: 1\r\n\r\nEvent: Newchannel\r\nUniqueid: 2\r\n\r\n")
        await eventually(lambda: len(seen) == 3)
    assert seen == [("new", "1"), ("hangup", "1"), ("new", "2")]
    assert client.events_received == 5 and client.events_dispatched == 4  # FullyBooted too


async def test_responses_find_their_actions_among_events(asterisk: FakeAsterisk) -> None:
    held: dict[str, str] = {}

    def getvar(action: dict[str, str]) -> list[bytes] | None:
        held[action["Variable"]] = action["ActionID"]
        if len(held) < 2:
            return None  # answer both at once, the second first, with events between
        first, second = held["FIRST"], held["SECOND"]
        return [
            b"Event: Newstate\r\nUniqueid: 7\r\nActionID: " + first.encode() + b"\r\n\r\n",
            f"Response: Success\r\nActionID: {second}\r\nVariable: SECOND\r\nValue: two\r\n\r\n".encode(),
            b"Event: Hangup\r\nUniqueid: 7\r\n\r\n",
            f"Response: Success\r\nActionID: {first}\r\nVariable: FIRST\r\nValue: one\r\n\r\n".encode(),
        ]

    asterisk.replies["Getvar"] = getvar
    client = AmiClient("127.0.0.1", asterisk.port, "u", "s")
    events: list[str] = []
    client.on("Newstate", lambda e: events.append("Newstate"))
    client.on("Hangup", lambda e: events.append("Hangup"))
    async with running(client):
        assert await client.wait_connected(5)
        one, two = await asyncio.gather(
            client.action("Getvar", Channel="PJSIP/a-1", Variable="FIRST"),
            client.action("Getvar", Channel="PJSIP/a-1", Variable="SECOND", Ignored=None),
        )
    assert (one["Value"], two["Value"]) == ("one", "two")
    assert events == ["Newstate", "Hangup"]
    assert "Ignored" not in asterisk.actions[-1]


async def test_event_lists_are_gathered_and_other_events_still_dispatched(asterisk: FakeAsterisk) -> None:
    asterisk.replies["QueueStatus"] = lambda a: [
        b"Response: Success\r\nActionID: {aid}\r\nEventList: start\r\nMessage: Queue status will follow\r\n\r\n",
        b"Event: QueueParams\r\nQueue: support\r\nActionID: {aid}\r\n\r\n",
        b"Event: QueueMember\r\nQueue: support\r\nName: Agent 1001\r\nActionID: {aid}\r\n\r\n",
        b"Event: QueueMember\r\nQueue: support\r\nName: live, not listed\r\n\r\n",
        b"Event: QueueStatusComplete\r\nActionID: {aid}\r\nEventList: Complete\r\nListItems: 2\r\n\r\n",
    ]
    client = AmiClient("127.0.0.1", asterisk.port, "u", "s")
    live: list[str] = []
    client.on("QueueMember", lambda e: live.append(e["Name"]))
    async with running(client):
        assert await client.wait_connected(5)
        status = await client.action("QueueStatus", as_list=True, Queue="support")
    assert status["Response"] == "Success"
    assert [(e["Event"], e.get("Name")) for e in status["events"]] == [
        ("QueueParams", None),
        ("QueueMember", "Agent 1001"),
    ]
    assert live == ["live, not listed"]


async def test_errors_and_timeouts_raise(asterisk: FakeAsterisk) -> None:
    asterisk.replies["Slow"] = lambda a: None
    client = AmiClient("127.0.0.1", asterisk.port, "u", "s", action_timeout=0.3)
    async with running(client):
        assert await client.wait_connected(5)
        with pytest.raises(AmiActionError, match="Invalid/unknown command") as refused:
            await client.action("QueueAdd", Queue="support", Interface="PJSIP/1001")
        assert refused.value.action == "QueueAdd"
        with pytest.raises(AmiActionError, match="no response"):
            await client.action("Slow")
        assert client.connected  # a slow action is not a dead connection


async def test_a_booting_asterisk_is_synced_only_once_it_is_fully_booted(asterisk: FakeAsterisk) -> None:
    """Right after a restart Asterisk takes logins before app_queue is loaded: the connected handlers (the
    resync, the agents' reconcile) must wait for FullyBooted, else they meet "unknown command"."""
    asterisk.booted = False
    client = AmiClient("127.0.0.1", asterisk.port, "u", "s")
    synced: list[bool] = []
    client.on_connected(lambda: synced.append(True))
    async with running(client):
        await eventually(lambda: asterisk.logins == 1)
        await asyncio.sleep(0.2)
        assert synced == [] and not client.connected
        asterisk.send(b"Event: FullyBooted\r\nPrivilege: system,all\r\nStatus: Fully Booted\r\n\r\n")
        await eventually(lambda: synced == [True])
        assert client.connected
    assert "FullyBooted" in client.handled_events  # so the event filter lets it through


async def test_an_asterisk_that_never_says_booted_is_used_after_a_while(asterisk: FakeAsterisk) -> None:
    asterisk.booted = False
    client = AmiClient("127.0.0.1", asterisk.port, "u", "s", boot_timeout=0.3)
    async with running(client):
        assert await client.wait_connected(5)


async def test_server_disconnect_reconnects_and_syncs_again(asterisk: FakeAsterisk) -> None:
    client = AmiClient("127.0.0.1", asterisk.port, "u", "s")
    states: list[str] = []

    async def resync() -> None:
        states.append("connected")

    client.on_connected(resync)
    client.on_disconnected(lambda: states.append("disconnected"))
    async with running(client):
        assert await client.wait_connected(5)
        await eventually(lambda: states == ["connected"])
        asterisk.drop()
        await eventually(lambda: states[-1:] == ["disconnected"])
        assert not client.connected
        with pytest.raises(AmiUnavailable):
            await client.action("Ping")
        await eventually(lambda: states == ["connected", "disconnected", "connected"])
        assert client.connected and asterisk.logins == 2


async def test_an_action_in_flight_fails_at_once_when_the_connection_drops(asterisk: FakeAsterisk) -> None:
    asterisk.replies["Slow"] = lambda a: None
    client = AmiClient("127.0.0.1", asterisk.port, "u", "s", action_timeout=10)
    async with running(client):
        assert await client.wait_connected(5)
        waiting = asyncio.create_task(client.action("Slow"))
        await eventually(lambda: any(a.get("Action") == "Slow" for a in asterisk.actions))
        started = asyncio.get_running_loop().time()
        asterisk.drop()
        with pytest.raises(AmiUnavailable):
            await waiting
        assert asyncio.get_running_loop().time() - started < 2


async def test_unanswered_ping_means_reconnect(asterisk: FakeAsterisk) -> None:
    client = AmiClient("127.0.0.1", asterisk.port, "u", "s", ping_interval=0.2, action_timeout=0.3)
    async with running(client):
        assert await client.wait_connected(5)
        await asyncio.sleep(0.5)
        assert asterisk.logins == 1  # pings answered: the session stays
        asterisk.answer_pings = False
        await eventually(lambda: asterisk.logins >= 2)
        asterisk.answer_pings = True
        assert await client.wait_connected(5)


async def test_refused_login_is_retried_not_connected(asterisk: FakeAsterisk) -> None:
    client = AmiClient("127.0.0.1", asterisk.port, "u", "wrong")
    async with running(client):
        assert not await client.wait_connected(0.8)
        await eventually(lambda: sum(a.get("Action") == "Login" for a in asterisk.actions) >= 2)
    assert asterisk.logins == 0


async def test_no_server_means_retries_with_backoff() -> None:
    async with running(AmiClient("127.0.0.1", 1, "u", "s")) as client:
        assert not await client.wait_connected(0.3)
        assert not client.connected


async def test_a_failing_async_handler_is_logged_not_fatal(asterisk: FakeAsterisk) -> None:
    client = AmiClient("127.0.0.1", asterisk.port, "u", "s")
    seen: list[str] = []

    async def broken(e: dict[str, Any]) -> None:
        raise RuntimeError("handler bug")

    client.on("AgentCalled", broken)
    client.on("AgentCalled", lambda e: seen.append(e["Uniqueid"]))
    async with running(client):
        assert await client.wait_connected(5)
        asterisk.send(b"Event: AgentCalled\r\nUniqueid: 1\r\n\r\nEvent: AgentCalled\r\nUniqueid: 2\r\n\r\n")
        await eventually(lambda: seen == ["1", "2"])
        assert client.connected
        assert (await client.action("Ping"))["Ping"] == "Pong"
