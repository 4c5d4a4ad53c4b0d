"""The IVR menu: a declarative file (YAML) validated at load into a graph of nodes (``ivr/schema.py``).

A mistake is refused with an error naming the file, the node and what is wrong (an unknown node, prompt or
queue, a bad field); the controller then keeps the menu it had (``ivr/store.py``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Self

import yaml
from pydantic import Field, ValidationError, model_validator

from hotline.hours import Schedule
from ivr.schema import WEEKDAYS, Hours, Node, QueueNode, Strict, parse_span

DEFAULT_MENU = Path(__file__).with_name("menu.yaml")
LANGUAGE = r"^[a-z]{2,3}$"


class Menu(Strict):
    languages: list[str] = Field(["en"], min_length=1)
    default_language: str = "en"
    hours: Hours | None = None
    tier_priority: dict[str, int] = Field(default_factory=dict)  # a known caller's queue priority by tier
    fallback: str  # the node a failure or exhausted tries lead to (a person)
    apology: str  # the prompt played before a failure leads to the fallback
    max_steps: int = Field(60, ge=5, le=500)  # a walk longer than this ends at the fallback queue
    prompts: dict[str, dict[str, str]]  # name → language → text
    start: str
    survey_node: str | None = None  # where the survey after a conversation starts (the ``survey`` route)
    nodes: dict[str, Node]
    version: str = ""  # set at load: a hash of the file's content

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        errors: list[str] = []
        if self.default_language not in self.languages:
            errors.append(f"default_language {self.default_language!r} is not among languages {self.languages}")
        for name, texts in self.prompts.items():
            if self.default_language not in texts:
                errors.append(f"prompt {name!r} has no {self.default_language!r} text")
            errors += [f"prompt {name!r}: unknown language {lang!r}" for lang in texts if lang not in self.languages]
        for field, target in (("start", self.start), ("fallback", self.fallback), ("survey_node", self.survey_node)):
            if target is not None and target not in self.nodes:
                errors.append(f"{field} node {target!r} is not defined")
        if self.apology not in self.prompts:
            errors.append(f"apology prompt {self.apology!r} is not defined")
        for name, node in self.nodes.items():
            for field, target in node.targets().items():
                if target not in self.nodes:
                    errors.append(f"node {name!r}: {field} goes to unknown node {target!r}")
            errors += [f"node {name!r}: prompt {p!r} is not defined" for p in node.prompts() if p not in self.prompts]
            for item in getattr(node, "items", []):
                if item.prompt and item.prompt not in self.prompts:
                    errors.append(f"node {name!r}: say item prompt {item.prompt!r} is not defined")
            for key, option in getattr(node, "options", {}).items():
                unknown = [lang for lang in option.keywords if lang not in self.languages]
                if unknown:
                    errors.append(f"node {name!r}: option {key} has keywords in unknown languages {unknown}")
        if self.fallback in self.nodes and not isinstance(self.nodes[self.fallback], QueueNode):
            errors.append(f"fallback node {self.fallback!r} must be a queue node (a person)")
        if errors:
            raise ValueError("; ".join(errors))
        return self

    def schedule(self) -> Schedule | None:
        if self.hours is None:
            return None
        weekly = {WEEKDAYS.index(day): [parse_span(s) for s in spans] for day, spans in self.hours.weekly.items()}
        holidays = {day: [parse_span(s) for s in spans] for day, spans in self.hours.holidays.items()}
        return Schedule(self.hours.timezone, weekly, holidays)

    def queues(self) -> dict[str, str]:
        """Every queue the menu names, by the node naming it."""
        named = {name: getattr(n, "queue", None) for name, n in self.nodes.items()}
        return {name: queue for name, queue in named.items() if isinstance(queue, str)}

    def graph(self) -> dict[str, Any]:
        """The menu as nodes and edges (for the admin page's diagram)."""
        nodes = [
            {
                "id": name,
                "kind": node.kind,
                "prompt": getattr(node, "prompt", None),
                "text": self.prompts.get(getattr(node, "prompt", None) or "", {}).get(self.default_language),
                "queue": getattr(node, "queue", None),
            }
            for name, node in self.nodes.items()
        ]
        edges = [
            {"from": name, "to": target, "label": label}
            for name, node in self.nodes.items()
            for label, target in node.targets().items()
        ]
        return {
            "version": self.version,
            "start": self.start,
            "fallback": self.fallback,
            "survey": self.survey_node,
            "nodes": nodes,
            "edges": edges,
        }


class MenuError(ValueError):
    """A menu file that cannot be used: the message names the file, the node and what is wrong."""


def _describe(e: ValidationError) -> str:
    """Pydantic's errors as ``node 'x': field: message`` (the kind's name in the location is dropped)."""
    parts = []
    for err in e.errors():
        loc = [str(x) for x in err["loc"]]
        if len(loc) >= 2 and loc[0] == "nodes":
            where = f"node {loc[1]!r}"
            rest = [x for x in loc[3:]] if len(loc) > 2 else []
            where += f": {'.'.join(rest)}" if rest else ""
        else:
            where = ".".join(loc) or "menu"
        parts.append(f"{where}: {err['msg']}")
    return "; ".join(parts)


def unknown_queues(menu: Menu, known: Iterable[str]) -> list[str]:
    known = set(known)
    return [f"node {node!r} routes to unknown queue {q!r}" for node, q in menu.queues().items() if q not in known]


def parse_menu(text: str, source: str, known_queues: Iterable[str] | None = None) -> Menu:
    """The menu in ``text`` (from ``source``, named in errors), validated."""
    try:
        data = yaml.safe_load(text)
        if not isinstance(data, dict):
            raise MenuError(f"{source}: the menu must be a mapping, not {type(data).__name__}")
        data["version"] = hashlib.sha256(text.encode()).hexdigest()[:12]
        menu = Menu.model_validate(data)
    except yaml.YAMLError as e:
        raise MenuError(f"{source}: not YAML: {e}") from e
    except ValidationError as e:
        raise MenuError(f"{source}: {_describe(e)}") from e
    if known_queues is not None:
        known = sorted(known_queues)
        problems = unknown_queues(menu, known)
        if problems:
            raise MenuError(f"{source}: " + "; ".join(problems) + f" (known queues: {', '.join(known)})")
    return menu


def load_menu(path: Path = DEFAULT_MENU, known_queues: Iterable[str] | None = None) -> Menu:
    """The menu in ``path``, validated (and its queues checked against ``known_queues`` when given)."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        raise MenuError(f"{path}: cannot read: {e}") from e
    return parse_menu(text, str(path), known_queues)
