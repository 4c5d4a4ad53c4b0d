"""The queue-load condition: the ACD's live figures (callers waiting, expected wait) choose the branch; the
demo offers a call back while the wait is long; an unknown load lets the caller queue as usual."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from acd.interface import CALLBACKS, QUEUE_LOAD, QueueLoad
from acd.load import QueueLoadService, expected_wait
from hotline.ami import AmiActionError, AmiUnavailable
from hotline.routing import Action
from ivr.menu import DEFAULT_MENU, MenuError
from tests.unit.fakes import FakeAgi, FakeAmi, FakeCustomers
from tests.unit.ivrkit import Kit, Slow, menu_of, write_menu


def load(waiting: int = 0, wait: float | None = 0.0, available: int = 1) -> QueueLoad:
    return QueueLoad(
        queue="support",
        waiting=waiting,
        longest_wait_s=30.0 if waiting else 0.0,
        agents_logged_in=2,
        agents_available=available,
        expected_wait_s=wait,
    )


@pytest.mark.parametrize(
    ("waiting", "logged_in", "available", "talk", "expected"),
    [
        (0, 2, 1, 120.0, 0.0),  # a free agent: no wait
        (3, 2, 1, 120.0, 180.0),  # 3 waiting, 1 free: 3 ahead of the new caller, served 2 at a time
        (4, 2, 0, 120.0, 300.0),
        (2, 0, 0, 120.0, None),  # nobody logged in: no estimate
    ],
)
def test_expected_wait(waiting: int, logged_in: int, available: int, talk: float, expected: float | None) -> None:
    assert expected_wait(waiting, logged_in, available, talk) == expected


async def test_the_acd_reads_the_load_from_asterisk_s_queue_summary() -> None:
    summary = {
        "Event": "QueueSummary",
        "Queue": "support",
        "LoggedIn": "3",
        "Available": "0",
        "Callers": "5",
        "HoldTime": "40",
        "TalkTime": "90",
        "LongestHoldTime": "75",
    }
    ami = FakeAmi({"QueueSummary": lambda fields: {"Response": "Success", "events": [summary]}})
    figures = await QueueLoadService(ami).load("support")  # type: ignore[arg-type]
    assert ami.actions == [("QueueSummary", {"Queue": "support"})]
    assert (figures.waiting, figures.agents_logged_in, figures.agents_available) == (5, 3, 0)
    assert figures.longest_wait_s == 75.0 and figures.expected_wait_s == 6 * 90 / 3


async def test_a_queue_without_history_uses_the_default_talk_time_and_an_unknown_queue_raises() -> None:
    summary = {"Event": "QueueSummary", "Queue": "support", "LoggedIn": "1", "Available": "0", "Callers": "0"}
    ami = FakeAmi({"QueueSummary": {"Response": "Success", "events": [summary]}})
    assert (await QueueLoadService(ami, default_talk_s=200).load("support")).expected_wait_s == 200.0  # type: ignore[arg-type]
    with pytest.raises(AmiActionError):
        await QueueLoadService(ami).load("complaints")  # type: ignore[arg-type]


def demo(figures: object) -> Kit:
    k = Kit(DEFAULT_MENU, FakeCustomers())
    k.provide(QUEUE_LOAD, Slow(figures))
    return k


async def test_a_long_wait_offers_a_callback_with_the_wait_said_in_minutes() -> None:
    k = demo(load(waiting=6, wait=250.0, available=0))
    callbacks = Slow(SimpleNamespace(id=3))
    k.provide(CALLBACKS, callbacks)
    agi = await k.call(FakeAgi(digits=["0", "1"]))
    walk = k.walk()
    assert walk[3:] == [
        ("main", "key 0"),
        ("agent_load", "yes"),
        ("long_wait", "said"),
        ("long_wait_choice", "key 1"),
        ("long_wait_callback", "requested"),
        ("long_wait_booked", "played"),
        ("long_wait_end", "ended"),
    ]
    assert k.journal.visits[4].input == "waiting 6, wait 250 s"
    heard = [str(p) for p, _ in agi.played]
    assert heard[1:3] == ["/p/en/long_wait_busy", "/f/en/n5"] and heard[3] == "/p/en/long_wait_menu"  # 5 minutes
    request = callbacks.calls[0][1][0]
    assert (request.reason, request.queue, request.not_before) == ("long_wait", "support", None)
    assert agi.variables["HOTLINE_ACTION"] == Action.hangup


async def test_a_caller_who_chooses_to_wait_is_queued() -> None:
    k = demo(load(waiting=6, wait=250.0, available=0))
    agi = await k.call(FakeAgi(digits=["0", "2"]))
    assert ("long_wait_choice", "key 2") in k.walk() and k.nodes()[-1] == "agent"
    assert agi.variables["HOTLINE_QUEUE"] == "support"


@pytest.mark.parametrize(
    "figures",
    [load(waiting=0, wait=0.0), load(waiting=2, wait=None, available=0)],  # short; nobody logged in: no estimate
)
async def test_a_short_or_unestimated_wait_goes_straight_to_the_queue(figures: QueueLoad) -> None:
    k = demo(figures)
    agi = await k.call(FakeAgi(digits=["0"]))
    assert k.nodes()[-2:] == ["agent_load", "agent"] and k.walk()[-2][1] == "no"
    assert agi.variables["HOTLINE_QUEUE"] == "support"


@pytest.mark.parametrize("failure", [AmiUnavailable("down"), AmiActionError("QueueSummary", "no answer")])
async def test_an_unreadable_load_is_no_failure_the_caller_queues(failure: Exception) -> None:
    k = demo(failure)
    agi = await k.call(FakeAgi(digits=["0"]))
    assert k.walk()[-2:] == [("agent_load", "unknown"), ("agent", "queue support p0")]
    assert "/p/en/sorry_problem" not in [str(p) for p, _ in agi.played]  # no apology: nothing failed for the caller


async def test_a_slow_load_is_not_waited_for() -> None:
    k = Kit(DEFAULT_MENU, FakeCustomers())
    k.provide(QUEUE_LOAD, Slow(load(waiting=9, wait=900.0), delay=5.0))
    agi = await k.call(FakeAgi(digits=["0"]))  # the kit bounds services at 0.2 s
    assert ("agent_load", "unknown") in k.walk() and agi.variables["HOTLINE_QUEUE"] == "support"


MENU = """
prompts:
  sorry: {en: "Sorry."}
fallback: person
apology: sorry
start: check
nodes:
  check: {kind: condition, test: queue_load, queue: support, LIMIT, then: busy, else: person}
  busy: {kind: hangup}
  person: {kind: queue, queue: support}
"""


@pytest.mark.parametrize(
    ("limit", "figures", "expected"),
    [
        ("waiting_at_least: 3", load(waiting=3, wait=10.0, available=0), "busy"),
        ("waiting_at_least: 3", load(waiting=2, wait=900.0, available=0), "person"),
        ("wait_at_least_s: 60", load(waiting=1, wait=60.0, available=0), "busy"),
        ("wait_at_least_s: 60, waiting_at_least: 5", load(waiting=5, wait=1.0, available=0), "busy"),
    ],
)
async def test_either_threshold_takes_the_then_branch(
    tmp_path: Path, limit: str, figures: QueueLoad, expected: str
) -> None:
    k = Kit(write_menu(tmp_path, MENU.replace("LIMIT", limit)))
    k.provide(QUEUE_LOAD, Slow(figures))
    await k.call(FakeAgi())
    assert k.nodes() == ["check", expected]


@pytest.mark.parametrize(
    ("node", "fault"),
    [
        ("{kind: condition, test: queue_load, waiting_at_least: 3, then: busy, else: person}", "needs 'queue'"),
        ("{kind: condition, test: queue_load, queue: support, then: busy, else: person}", "needs 'waiting_at_least'"),
        (
            "{kind: condition, test: queue_load, queue: nowhere, waiting_at_least: 1, then: busy, else: person}",
            "nowhere",
        ),
        ("{kind: condition, test: known, queue: support, then: busy, else: person}", "takes no queue"),
    ],
)
def test_a_wrong_queue_load_node_is_refused(node: str, fault: str) -> None:
    text = MENU.replace("{kind: condition, test: queue_load, queue: support, LIMIT, then: busy, else: person}", node)
    with pytest.raises(MenuError) as e:
        menu_of(text)
    assert fault in str(e.value) and "check" in str(e.value)
