"""The AMI client's pieces that need no Asterisk."""

from __future__ import annotations

import pytest
from panoramisk.message import Message

from hotline.ami import AmiClient, AmiUnavailable, flatten
from hotline.bus import EventBus
from tests.unit.fakes import Recorder


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
    client = AmiClient(EventBus(), "127.0.0.1", 1, "u", "s")
    assert not client.connected
    with pytest.raises(AmiUnavailable, match="QueueStatus"):
        await client.action("QueueStatus", as_list=True)


async def test_events_are_forwarded_flattened_to_the_bus() -> None:
    bus = EventBus()
    events = Recorder(bus)
    client = AmiClient(bus, "127.0.0.1", 1, "u", "s")
    client._on_event(client.manager, Message.from_line("Event: Hangup\r\nUniqueid: 3.3\r\nUniqueid: 4.4"))
    client._on_event(client.manager, Message({"Response": "Success"}))  # not an event: not forwarded
    assert [name for name, _ in events.events] == ["ami.Hangup"]
    assert events.one("ami.Hangup")["Uniqueid"] == "3.3"
    assert client.events_received == 2


async def test_login_and_disconnect_change_the_state() -> None:
    bus = EventBus()
    events = Recorder(bus)
    client = AmiClient(bus, "127.0.0.1", 1, "u", "s")
    client._on_login(client.manager)
    assert client.connected
    assert await client.wait_connected(0.01)
    client._on_disconnect(client.manager, ConnectionResetError())
    assert not client.connected
    assert not await client.wait_connected(0.01)
    assert [name for name, _ in events.events] == ["ami.connected", "ami.disconnected"]
