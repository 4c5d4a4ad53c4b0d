"""The AMI client's pieces that need no Asterisk."""

from __future__ import annotations

from typing import Any

import pytest
from panoramisk.message import Message

from hotline.ami import AmiClient, AmiUnavailable, flatten


def test_flatten_keeps_the_first_of_repeated_headers() -> None:
    message = Message.from_line("Event: UserEvent\r\nUniqueid: 1.1\r\nUserEvent: HotlineOutcome\r\nUniqueid: x")
    assert message["Uniqueid"] == ["1.1", "x"]  # how panoramisk gives repeated headers
    flat = flatten(message)
    assert flat["Uniqueid"] == "1.1"
    assert flat["UserEvent"] == "HotlineOutcome"
    assert flat["Event"] == "UserEvent"


def test_flatten_leaves_single_values_alone() -> None:
    message = Message.from_line("Event: Hangup\r\nUniqueid: 2.2\r\nCause: 16")
    assert {k: flatten(message)[k] for k in ("Event", "Uniqueid", "Cause")} == {
        "Event": "Hangup",
        "Uniqueid": "2.2",
        "Cause": "16",
    }


async def test_action_without_a_connection_is_refused() -> None:
    client = AmiClient("127.0.0.1", 1, "u", "s")
    assert not client.connected
    with pytest.raises(AmiUnavailable, match="QueueStatus"):
        await client.action("QueueStatus", as_list=True)


async def test_events_reach_their_handlers_flattened() -> None:
    client = AmiClient("127.0.0.1", 1, "u", "s")
    seen: list[dict[str, Any]] = []
    client.on("Hangup", seen.append)
    client._on_event(client.manager, Message.from_line("Event: Hangup\r\nUniqueid: 3.3\r\nUniqueid: 4.4"))
    client._on_event(client.manager, Message.from_line("Event: Newexten\r\nUniqueid: 3.3"))  # nobody's: skipped
    client._on_event(client.manager, Message({"Response": "Success"}))  # not an event: not forwarded
    assert [e["Uniqueid"] for e in seen] == ["3.3"]
    assert client.events_received == 3


async def test_login_and_disconnect_change_the_state() -> None:
    client = AmiClient("127.0.0.1", 1, "u", "s")
    hooks: list[str] = []
    client.on_connected(lambda: hooks.append("connected"))
    client.on_disconnected(lambda: hooks.append("disconnected"))
    client._on_login(client.manager)
    assert client.connected
    assert await client.wait_connected(0.01)
    client._on_disconnect(client.manager, ConnectionResetError())
    assert not client.connected
    assert not await client.wait_connected(0.01)
    assert hooks == ["connected", "disconnected"]


def test_garbage_from_the_ami_socket_does_not_stop_events() -> None:
    """Malformed blocks (no key, binary noise, a doubled Event header, a huge value) are skipped; the
    events around them still reach the bus."""
    from hotline.ami import HardenedAMIProtocol

    seen: list[dict[str, Any]] = []
    client = AmiClient("127.0.0.1", 1, "u", "s")
    client.on("Hangup", seen.append)

    class Transport:
        def write(self, data: bytes) -> None:
            pass

        def close(self) -> None:
            pass

    protocol = HardenedAMIProtocol()
    protocol.connection_made(Transport())
    protocol.factory = client.manager
    stream = (
        b"Asterisk Call Manager/9.0.0\r\n"
        b"Event: Hangup\r\nUniqueid: 1.1\r\n\r\n"
        b"no colon here at all\r\n\r\n"
        b"\x00\xff\xfe garbage: \x80\r\n\r\n"
        b"Event: Hangup\r\nEvent: Hangup\r\nUniqueid: 1.2\r\n\r\n"
        b"Event: Hangup\r\nUniqueid: 1.3\r\nCause-txt: " + b"x" * 100_000 + b"\r\n\r\n"
        b"Event: Hangup\r\nUniqueid: 1.4\r\n\r\n"
    )
    for i in range(0, len(stream), 7):  # arbitrary chunking, as TCP delivers it
        protocol.data_received(stream[i : i + 7])
    assert [e["Uniqueid"] for e in seen] == ["1.1", "1.3", "1.4"]


def test_an_endless_message_is_dropped_not_buffered() -> None:
    from hotline.ami import MAX_PENDING, HardenedAMIProtocol

    protocol = HardenedAMIProtocol()
    protocol.connection_made(None)
    protocol.factory = AmiClient("127.0.0.1", 1, "u", "s").manager
    for _ in range(20):
        protocol.data_received(b"Event: Flood\r\nData: " + b"y" * (MAX_PENDING // 10))
    assert sum(len(x) for x in protocol.queue) <= MAX_PENDING + MAX_PENDING // 10 + 30
