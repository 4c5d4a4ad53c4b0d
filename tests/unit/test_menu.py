"""The IVR menu file: the shipped one loads, broken ones are refused with a message naming the fault."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import ValidationError

from ivr.menu import DEFAULT_MENU, Menu, load_menu


def shipped() -> dict[str, Any]:
    return yaml.safe_load(DEFAULT_MENU.read_text(encoding="utf-8"))


def test_shipped_menu_is_valid() -> None:
    menu = load_menu()
    assert menu.start in menu.nodes
    main = menu.nodes[menu.start]
    assert main.options["0"].route is not None
    assert main.options["0"].route.intent == "agent"
    assert main.fallback.queue == "support"
    assert menu.digits(menu.start) == "0123"
    assert set(menu.priority_tiers) == {"vip", "key_account"}
    for node in menu.nodes.values():
        for prompt in (node.prompt, node.invalid, node.no_input):
            assert prompt is None or prompt in menu.prompts


def test_load_menu_reads_a_given_file(tmp_path: Path) -> None:
    data = shipped()
    data["nodes"]["main"]["options"]["9"] = {"route": {"queue": "sales", "intent": "sales"}}
    path = tmp_path / "menu.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    menu = load_menu(path)
    assert menu.digits("main") == "01239"


def test_goto_to_a_defined_node_is_valid() -> None:
    data = shipped()
    data["nodes"]["sub"] = copy.deepcopy(data["nodes"]["main"])
    data["nodes"]["main"]["options"]["9"] = {"goto": "sub"}
    menu = Menu.model_validate(data)
    assert menu.nodes["main"].options["9"].goto == "sub"


def broken(change: str) -> dict[str, Any]:
    data = shipped()
    main = data["nodes"]["main"]
    if change == "unknown goto":
        main["options"]["4"] = {"goto": "nowhere"}
    elif change == "multi-char digit":
        main["options"]["12"] = {"route": {"queue": "support", "intent": "x"}}
    elif change == "letter digit":
        main["options"]["a"] = {"route": {"queue": "support", "intent": "x"}}
    elif change == "undefined prompt":
        main["invalid"] = "oops_prompt"
    elif change == "undefined greeting":
        data["greeting"] = "hello_prompt"
    elif change == "route and goto":
        main["options"]["4"] = {"route": {"queue": "support", "intent": "x"}, "goto": "main"}
    elif change == "neither route nor goto":
        main["options"]["4"] = {}
    elif change == "start missing":
        data["start"] = "lobby"
    elif change == "timeout too short":
        main["timeout_ms"] = 10
    return data


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ("unknown goto", "unknown node 'nowhere'"),
        ("multi-char digit", "'12' is not a single keypad digit"),
        ("letter digit", "'a' is not a single keypad digit"),
        ("undefined prompt", "prompt 'oops_prompt' is used but not defined"),
        ("undefined greeting", "prompt 'hello_prompt' is used but not defined"),
        ("route and goto", "exactly one of 'route' or 'goto'"),
        ("neither route nor goto", "exactly one of 'route' or 'goto'"),
        ("start missing", "start node 'lobby' is not defined"),
        ("timeout too short", "timeout_ms"),
    ],
)
def test_invalid_menus_are_refused(change: str, message: str) -> None:
    with pytest.raises(ValidationError) as info:
        Menu.model_validate(broken(change))
    assert message in str(info.value)


def test_all_problems_are_reported_together() -> None:
    data = broken("unknown goto")
    data["start"] = "lobby"
    with pytest.raises(ValidationError) as info:
        Menu.model_validate(data)
    text = str(info.value)
    assert "unknown node 'nowhere'" in text
    assert "start node 'lobby'" in text


def test_a_menu_naming_an_unknown_queue_is_refused_with_file_node_and_name(tmp_path: Path) -> None:
    from ivr.menu import MenuError

    data = yaml.safe_load(DEFAULT_MENU.read_text())
    data["nodes"]["main"]["options"]["3"] = {"route": {"queue": "complaints", "intent": "complaint"}}
    path = tmp_path / "menu.yaml"
    path.write_text(yaml.safe_dump(data))
    assert load_menu(path, known_queues={"support", "complaints"}).nodes["main"].options["3"].route is not None
    with pytest.raises(MenuError) as refused:
        load_menu(path, known_queues={"support"})
    message = str(refused.value)
    assert str(path) in message and "node 'main' option 3" in message and "'complaints'" in message
    assert "known queues: support" in message


def test_the_shipped_menu_routes_only_to_the_shipped_queues() -> None:
    from acd.queues import Queues

    assert load_menu(known_queues=Queues.load().names()).start == "main"


def test_a_broken_menu_file_names_the_file(tmp_path: Path) -> None:
    from ivr.menu import MenuError

    path = tmp_path / "menu.yaml"
    path.write_text("start: [unclosed")
    with pytest.raises(MenuError, match=str(path)):
        load_menu(path)
