"""The IVR menu: a declarative file (YAML) validated at load into these models."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Self

import yaml
from pydantic import BaseModel, Field, ValidationError, model_validator

DEFAULT_MENU = Path(__file__).with_name("menu.yaml")
DIGITS = set("0123456789*#")


class Route(BaseModel):
    queue: str
    intent: str


class Option(BaseModel):
    route: Route | None = None
    goto: str | None = None

    @model_validator(mode="after")
    def _one(self) -> Self:
        if (self.route is None) == (self.goto is None):
            raise ValueError("an option needs exactly one of 'route' or 'goto'")
        return self


class Node(BaseModel):
    prompt: str
    timeout_ms: int = Field(5000, ge=1000, le=30000)
    tries: int = Field(3, ge=1, le=10)
    invalid: str | None = None
    no_input: str | None = None
    options: dict[str, Option]
    fallback: Route


class Menu(BaseModel):
    prompts: dict[str, str]
    start: str
    greeting: str
    greeting_priority: str
    priority_tiers: list[str] = []
    nodes: dict[str, Node]

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        errors: list[str] = []
        if self.start not in self.nodes:
            errors.append(f"start node {self.start!r} is not defined")
        used = [self.greeting, self.greeting_priority]
        for name, node in self.nodes.items():
            used += [p for p in (node.prompt, node.invalid, node.no_input) if p]
            for digit, opt in node.options.items():
                if len(digit) != 1 or digit not in DIGITS:
                    errors.append(f"node {name}: option {digit!r} is not a single keypad digit")
                if opt.goto and opt.goto not in self.nodes:
                    errors.append(f"node {name}: option {digit} goes to unknown node {opt.goto!r}")
        errors += [f"prompt {p!r} is used but not defined" for p in used if p not in self.prompts]
        if errors:
            raise ValueError("; ".join(errors))
        return self

    def digits(self, node: str) -> str:
        return "".join(sorted(self.nodes[node].options))


class MenuError(ValueError):
    """A menu file that cannot be used: the message names the file, the node and what is wrong."""


def unknown_queues(menu: Menu, known: Iterable[str]) -> list[str]:
    """Every route of the menu that names a queue that does not exist, described."""
    known = set(known)
    problems = []
    for name, node in menu.nodes.items():
        routes = [(f"option {digit}", opt.route) for digit, opt in node.options.items() if opt.route]
        for where, route in [*routes, ("fallback", node.fallback)]:
            if route is not None and route.queue not in known:
                problems.append(f"node {name!r} {where} routes to unknown queue {route.queue!r}")
    return problems


def load_menu(path: Path = DEFAULT_MENU, known_queues: Iterable[str] | None = None) -> Menu:
    """The menu in ``path``, validated (and its queues checked against ``known_queues`` when given)."""
    try:
        with path.open(encoding="utf-8") as f:
            data = yaml.safe_load(f)
        menu = Menu.model_validate(data)
    except (OSError, yaml.YAMLError, ValidationError) as e:
        raise MenuError(f"{path}: {e}") from e
    if known_queues is not None:
        known = sorted(known_queues)
        problems = unknown_queues(menu, known)
        if problems:
            raise MenuError(f"{path}: " + "; ".join(problems) + f" (known queues: {', '.join(known)})")
    return menu
