"""The menu file: validation errors that name the file, the node and the fault; reload keeping the last good
version; the engine's bounds (walk length, failing fallback) and speech input on small menus."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from hotline.hours import Schedule, opening
from ivr.interface import SPEECH, Answer
from ivr.menu import DEFAULT_MENU, MenuError, load_menu
from ivr.say import digits, fragments, number, say_date, say_time
from ivr.schema import parse_span
from tests.unit.fakes import FakeAgi, FakeCustomers, card
from tests.unit.ivrkit import QUEUES, Kit, Slow, menu_of, write_menu

SMALL = """
prompts:
  hello: {en: "Hello."}
  menu: {en: "Press 1 or 2."}
  sorry: {en: "Sorry."}
fallback: person
apology: sorry
start: hello
nodes:
  hello: {kind: play, prompt: hello, next: choose}
  choose:
    kind: menu
    prompt: menu
    tries: 2
    options:
      "1": {next: person, keywords: {en: [agent]}}
      "2": {next: done}
  person: {kind: queue, queue: support, intent: agent}
  done: {kind: hangup}
"""


def test_the_demo_menu_loads_against_the_queues() -> None:
    menu = load_menu(DEFAULT_MENU, QUEUES)
    assert menu.start == "greeting" and menu.fallback == "agent"
    assert {"support", "complaints"} == set(menu.queues().values())
    assert all(set(texts) <= {"en", "zh"} for texts in menu.prompts.values())


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (("next: choose", "next: nowhere"), "node 'hello': next goes to unknown node 'nowhere'"),
        (("prompt: menu", "prompt: missing"), "node 'choose': prompt 'missing' is not defined"),
        (("queue: support", "queue: sales"), "node 'person' routes to unknown queue 'sales'"),
        (('"2": {next: done}', '"22": {next: done}'), "node 'choose': options"),
        (("tries: 2", "tries: 0"), "node 'choose': tries"),
        (("kind: play", "kind: dance"), "node 'hello'"),
        (("fallback: person", "fallback: done"), "fallback node 'done' must be a queue node"),
        (("keywords: {en:", "keywords: {fr:"), "option 1 has keywords in unknown languages ['fr']"),
    ],
)
def test_a_mistake_names_the_file_the_node_and_the_fault(
    tmp_path: Path, change: tuple[str, str], expected: str
) -> None:
    path = write_menu(tmp_path, SMALL.replace(*change))
    with pytest.raises(MenuError) as e:
        load_menu(path, QUEUES)
    assert str(e.value).startswith(str(path))
    assert expected in str(e.value)


def test_not_yaml_is_refused_with_the_file() -> None:
    with pytest.raises(MenuError, match=r"x\.yaml: not YAML"):
        from ivr.menu import parse_menu

        parse_menu("a: [", "x.yaml")


async def test_reload_takes_a_good_change_and_keeps_the_last_good_version_on_a_bad_one(tmp_path: Path) -> None:
    path = write_menu(tmp_path, SMALL)
    k = Kit(path)
    first = k.store.current
    assert (await k.store.reload()).changed is False  # nothing changed
    path.write_text(SMALL.replace("Hello.", "Hello again."))
    report = await k.store.reload()
    assert report.changed and report.version != first.menu.version and report.error is None
    good = k.store.current
    path.write_text(SMALL.replace("next: choose", "next: nowhere"))
    report = await k.store.reload()
    assert not report.changed and "node 'hello': next goes to unknown node 'nowhere'" in (report.error or "")
    assert k.store.current is good
    assert k.store.health()["menu_error"] == report.error
    path.write_text(SMALL)
    assert (await k.store.reload()).error is None and k.store.error is None


async def test_a_call_keeps_the_version_it_started_with(tmp_path: Path) -> None:
    path = write_menu(tmp_path, SMALL)
    k = Kit(path)

    class ReloadingAgi(FakeAgi):
        async def get_data(self, prompt: str, timeout_ms: int, max_digits: int) -> tuple[str, bool]:
            path.write_text(SMALL.replace('"2": {next: done}', '"2": {next: person}'))
            await k.store.reload()
            return await super().get_data(prompt, timeout_ms, max_digits)

    agi = await k.call(ReloadingAgi(digits=["2"]))
    assert agi.variables["HOTLINE_ACTION"] == "hangup"  # the old version's option 2
    assert {v.menu_version for v in k.journal.visits} == {menu_of(SMALL).version}
    again = await k.call(FakeAgi(digits=["2"]))
    assert again.variables["HOTLINE_ACTION"] == "queue"


async def test_a_loop_ends_at_a_person(tmp_path: Path) -> None:
    looping = SMALL.replace("next: choose", "next: hello").replace("start: hello", "start: hello\nmax_steps: 5")
    k = Kit(write_menu(tmp_path, looping))
    agi = await k.call(FakeAgi())
    assert agi.variables["HOTLINE_QUEUE"] == "support"
    assert k.walk()[-1] == ("hello", "too many steps")
    assert len(k.journal.visits) == 6


async def test_speech_chooses_an_option_when_a_recogniser_is_provided(tmp_path: Path) -> None:
    k = Kit(write_menu(tmp_path, SMALL))

    class Speech(Slow):
        def supports(self, language: str) -> bool:
            return language == "en"

        def supports_digits(self, language: str) -> bool:
            return False

    speech = Speech(Answer(key="1", by="speech", heard="agent", confidence=0.9))
    k.provide(SPEECH, speech)
    agi = await k.call(FakeAgi())
    assert agi.asked == []  # no GET DATA: the recogniser played the prompt
    name, args = speech.calls[0]
    assert name == "ask" and args[2] == {"1": ["agent"]}
    assert ("choose", "said 1") in k.walk()
    assert agi.variables["HOTLINE_QUEUE"] == "support"


async def test_a_speech_failure_apologises_and_hands_over(tmp_path: Path) -> None:
    k = Kit(write_menu(tmp_path, SMALL))

    class Broken(Slow):
        def supports(self, language: str) -> bool:
            return True

        def supports_digits(self, language: str) -> bool:
            return True

    k.provide(SPEECH, Broken(RuntimeError("recogniser died")))
    agi = await k.call(FakeAgi())
    assert agi.played[-1][0] == "/p/en/sorry"
    assert ("choose", "failed") in k.walk() and agi.variables["HOTLINE_QUEUE"] == "support"


DIGITS_MENU = """
prompts:
  sorry: {en: "Sorry."}
  code: {en: "Your postal code?"}
  bad: {en: "Not valid."}
fallback: person
apology: sorry
start: code
nodes:
  code: {kind: collect, prompt: code, var: postal_code, min_digits: 6, max_digits: 6, validate: {kind: postal_code},
         invalid: bad, next: done}
  done: {kind: hangup, served: true}
  person: {kind: queue, queue: support}
"""


async def test_a_collect_node_takes_digits_said_and_validates_them_like_keys(tmp_path: Path) -> None:
    k = Kit(write_menu(tmp_path, DIGITS_MENU))

    class Speech(Slow):
        def __init__(self) -> None:
            super().__init__()
            self.answers = [
                Answer(key="10002", by="speech", heard="one oh oh oh two"),  # one digit short: asked again
                Answer(key="100020", by="speech", heard="one oh oh oh two oh"),
            ]

        def supports(self, language: str) -> bool:
            return True

        def supports_digits(self, language: str) -> bool:
            return True

        async def ask_digits(self, agi: object, prompt: Path, language: str, timeout_ms: int, n: int) -> Answer:
            self.calls.append(("ask_digits", (prompt, language, timeout_ms, n)))
            return self.answers.pop(0)

    speech = Speech()
    k.provide(SPEECH, speech)
    agi = await k.call(FakeAgi())
    assert agi.asked == []  # no GET DATA: the voice question played the prompt and took the digits
    assert [c[1][3] for c in speech.calls] == [6, 6]
    assert [p for p, _ in agi.played] == ["/p/en/bad"]  # the short string was refused like a short entry
    assert k.walk()[0] == ("code", "valid (said) (try 2)") and k.journal.visits[0].input == "100020"


def test_values_are_said_from_fragments() -> None:
    assert digits("7700a") == ["d7", "d7", "d0", "d0", "lA"]
    assert number("42") == ["n42"] and number("123") == ["d1", "d2", "d3"]
    assert say_time("2026-11-23T06:05:00+00:00", "en", "Asia/Shanghai") == ["n14", "n5"]
    assert say_time("14:00", "en") == ["n14", "oclock"]
    assert say_time("14:30", "zh") == ["n14", "oclock", "n30", "minutes"]
    assert say_date("2026-10-01", "zh") == ["m10", "n1", "day"]
    zh, en = fragments("zh"), fragments("en")
    assert (zh["n23"], zh["n10"], zh["d0"]) == ("二十三", "十", "零")
    assert (en["n23"], en["m11"]) == ("twenty three", "November")
    every = {f for value in ("0123456789", "59") for f in digits(value) + number(value)}
    assert every <= set(en) and every <= set(zh)


CONDITIONS = """
prompts:
  sorry: {en: "Sorry."}
hours:
  timezone: Asia/Shanghai
  weekly: {mon: ["08:00-20:00"]}
  holidays: {2026-11-23: ["10:00-12:00"]}
fallback: person
apology: sorry
start: check
nodes:
  check: {kind: condition, test: TEST, VALUES then: served, else: person}
  served: {kind: hangup}
  person: {kind: queue, queue: support}
"""


@pytest.mark.parametrize(
    ("test", "values", "expected"),
    [
        ("open", "", "person"),  # a holiday's own hours (10-12) replace Monday's: closed at 12:00
        ("holiday", "", "served"),
        ("tier", "values: [vip],", "served"),
        ("language", "values: [zh],", "person"),
        ("known", "", "served"),
        ("var", "var: customer.tier,", "served"),
        ("var", "var: customer.tier, values: [regular],", "person"),
    ],
)
async def test_conditions(tmp_path: Path, test: str, values: str, expected: str) -> None:
    k = Kit(
        write_menu(tmp_path, CONDITIONS.replace("TEST", test).replace("VALUES", values)), FakeCustomers(card("vip"))
    )
    await k.call(FakeAgi())
    assert k.walk()[0][0] == "check" and k.walk()[1][0] == expected


def test_a_day_that_ends_at_24_00_is_open_through_its_last_minute() -> None:
    span = parse_span("00:00-24:00")
    schedule = Schedule("Asia/Shanghai", {d: [span] for d in range(7)})
    late = datetime(2026, 11, 24, 23, 59, 30, tzinfo=ZoneInfo("Asia/Shanghai"))  # 24:00 once meant 23:59
    assert opening(schedule, late).open
    assert opening(schedule, late.replace(hour=0, minute=0, second=0)).open
    with pytest.raises(ValueError, match="ends before it starts"):
        parse_span("10:00-09:00")
