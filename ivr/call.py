"""One caller's walk through one menu version: the variables, the language, what was decided."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from crm_bridge.schemas import CustomerCard
from hotline.routing import RoutingDecision
from ivr.audio import PromptBook
from ivr.menu import Menu

if TYPE_CHECKING:
    from hotline.fastagi import AgiSession
    from ivr.records import VisitRecord

TEMPLATE = re.compile(r"\{([a-z0-9_.]+)\}")
NO_PATH = 200  # the routing contract's ivr_path size


class Failure(Exception):
    """Something the node needed failed (a look-up, a service, the synthesiser): apologise, then a person."""


@dataclass
class Step:
    """How a node ended: where to go next (None: the walk is over), the result and the caller's input."""

    next: str | None
    result: str
    input: str | None = None
    marks: list[str] = field(default_factory=list)  # what the routing path shows of it: keys, ``?``, ``t``


@dataclass
class Call:
    agi: AgiSession
    menu: Menu
    book: PromptBook
    card: CustomerCard | None
    lookup_failed: bool
    language: str
    started: datetime
    vars: dict[str, str] = field(default_factory=dict)
    pending_key: str = ""  # a key pressed during an interruptible prompt, for the next menu
    seq: int = 0
    path: list[str] = field(default_factory=list)  # ``node:key`` for every answer given (the routing path)
    decision: RoutingDecision | None = None
    unkept: list[VisitRecord] = field(default_factory=list)  # visits not handed to the journal yet
    served: bool = False  # ended by a hang-up node marked served

    @property
    def call_id(self) -> str:
        return self.agi.uniqueid

    @property
    def caller(self) -> str:
        return self.agi.caller_number

    def ivr_path(self) -> str:
        text = ">".join(self.path)
        return text if len(text) <= NO_PATH else "…" + text[-(NO_PATH - 1) :]

    def render(self, template: str) -> str:
        return TEMPLATE.sub(lambda m: self.vars.get(m.group(1), ""), template)

    def prompt(self, name: str) -> str:
        return str(self.book.prompt(name, self.language))

    def fragment(self, name: str) -> Path | None:
        return self.book.fragment(name, self.language)

    def set_found(self, prefix: str, values: dict[str, Any]) -> None:
        for key, value in values.items():
            if value is None:
                self.vars.pop(f"{prefix}.{key}", None)
            else:
                self.vars[f"{prefix}.{key}"] = value.isoformat() if isinstance(value, datetime) else str(value)

    def int_var(self, name: str) -> int | None:
        try:
            return int(self.vars[name])
        except (KeyError, ValueError):
            return None
