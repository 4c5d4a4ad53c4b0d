"""The ACD's routing configuration (``acd/routing.yaml``): typed, validated at load against the queue catalogue.

Skills are app_queue penalties: an agent is a member of every queue, with the penalty of their level in
the queue's skill (an outsider's penalty without it); a caller starts with a maximum penalty and the
queue's overflow rule raises it with the wait, so the pool widens while the caller keeps their place.
"""

from __future__ import annotations

from datetime import date, time
from pathlib import Path
from typing import Self

import yaml
from pydantic import BaseModel, Field, field_validator, model_validator

from hotline.hours import Interval, Schedule

DEFAULT_RULES = Path(__file__).with_name("routing.yaml")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_NAME = r"^[A-Za-z0-9_-]+$"


def _clock(text: str) -> time:
    if text == "24:00":
        return time.max
    hours, minutes = text.split(":")
    return time(int(hours), int(minutes))


def _interval(text: str) -> Interval:
    try:
        start, end = (_clock(part.strip()) for part in text.split("-"))
    except ValueError as e:
        raise ValueError(f"an opening interval is 'HH:MM-HH:MM', not {text!r}") from e
    if start >= end:
        raise ValueError(f"an opening interval must end after it starts: {text!r}")
    return start, end


class TierRule(BaseModel):
    priority: int = Field(default=0, ge=0, le=100)
    green: bool = False  # the green channel: a priority that overtakes every regular caller
    queue: str | None = None  # their own queue


class PreferredRing(BaseModel):
    ring_seconds: int = Field(default=15, ge=3, le=120)


class StickyRule(PreferredRing):
    days: int = Field(default=30, ge=1, le=365)
    tiers: list[str] = []


class Overflow(BaseModel):
    after: int = Field(ge=1, le=3600)  # seconds in queue
    max_penalty: int = Field(ge=0, le=99)


class Announce(BaseModel):
    frequency: int = Field(default=0, ge=0, le=600)  # seconds between announcements (0: none)
    position: bool = True
    holdtime: bool = True


class Wrapup(BaseModel):
    seconds: int = Field(default=0, ge=0, le=3600)  # after-call work; with ``disposition`` it lasts until one is posted
    disposition: bool = False

    @property
    def active(self) -> bool:
        return self.disposition or self.seconds > 0


class QueueRule(BaseModel):
    skill: str | None = None
    start_penalty: int | None = Field(default=None, ge=0, le=99)  # None: every member from the start
    overflow: list[Overflow] = []
    hours: str | None = None  # a schedule's name; None: always open
    max_wait: int = Field(default=600, ge=10, le=7200)
    announce: Announce = Field(default_factory=Announce)
    wrapup: Wrapup = Field(default_factory=Wrapup)

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        afters = [o.after for o in self.overflow]
        if afters != sorted(set(afters)):
            raise ValueError("overflow steps must be in increasing order of `after`")
        if self.overflow and self.start_penalty is None:
            raise ValueError("overflow needs a start_penalty to widen from")
        return self


class ScheduleRule(BaseModel):
    timezone: str
    weekly: dict[str, list[str]]
    holidays: dict[date, list[str]] = {}

    @field_validator("weekly")
    @classmethod
    def _days(cls, v: dict[str, list[str]]) -> dict[str, list[str]]:
        bad = set(v) - set(WEEKDAYS)
        if bad:
            raise ValueError(f"weekdays are {', '.join(WEEKDAYS)}; not {sorted(bad)}")
        return v

    def schedule(self) -> Schedule:
        return Schedule(
            timezone=self.timezone,
            weekly={WEEKDAYS.index(day): [_interval(i) for i in spans] for day, spans in self.weekly.items()},
            holidays={day: [_interval(i) for i in spans] for day, spans in self.holidays.items()},
        )


class CallbackRule(BaseModel):
    retry_after: int = Field(default=120, ge=5, le=86400)
    attempts: int = Field(default=3, ge=1, le=20)
    agent_ring_seconds: int = Field(default=20, ge=5, le=120)
    customer_ring_seconds: int = Field(default=30, ge=5, le=120)
    dial: str = Field(default="PJSIP/carrier/sip:{number}@127.0.0.1:5080", pattern=r"^[A-Za-z0-9_/:@.{}+-]+$")

    def dial_string(self, number: str) -> str:
        digits = "".join(c for c in number if c.isdigit() or c == "+")
        return self.dial.replace("{number}", digits)

    def dialplan_dial(self, number_expression: str) -> str:
        """The same route for the dialplan, the number being a dialplan expression (``${EXTEN:2}``): the
        desk's transfers to an outside number leave the way a callback reaches its customer."""
        return self.dial.replace("{number}", number_expression)


class RoutingRules(BaseModel):
    tiers: dict[str, TierRule]
    unknown_priority: int = Field(default=0, ge=0, le=100)
    intents: dict[str, str] = {}
    languages: dict[str, str] = {}
    dedicated: PreferredRing = Field(default_factory=PreferredRing)
    sticky: StickyRule = Field(default_factory=StickyRule)
    skill_penalties: dict[int, int]
    outsider_penalty: int = Field(default=9, ge=0, le=99)
    schedules: dict[str, ScheduleRule] = {}
    queues: dict[str, QueueRule] = {}
    agents: dict[str, dict[str, int]] = {}
    ring_no_answer_pause: str = Field(default="no_answer", pattern=_NAME)
    pause_reasons: list[str] = ["break", "lunch", "training", "outbound"]
    callbacks: CallbackRule = Field(default_factory=CallbackRule)

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        for ext, skills in self.agents.items():
            bad = {s: lvl for s, lvl in skills.items() if lvl not in self.skill_penalties}
            if bad:
                raise ValueError(f"agent {ext}: skill levels {bad} have no penalty in skill_penalties")
        for name, q in self.queues.items():
            if q.hours is not None and q.hours not in self.schedules:
                raise ValueError(f"queue {name}: unknown schedule {q.hours!r}")
        if self.ring_no_answer_pause not in self.pause_reasons:
            raise ValueError("ring_no_answer_pause must be one of pause_reasons")
        return self

    def check_queues(self, known: frozenset[str], source: str = "routing.yaml") -> None:
        """Every queue named here must exist in the catalogue (and every catalogue queue gets a rule)."""
        named = {("tiers", t.queue) for t in self.tiers.values() if t.queue}
        named |= {("intents", q) for q in self.intents.values()}
        named |= {("languages", q) for q in self.languages.values()}
        named |= {("queues", q) for q in self.queues}
        missing = sorted(f"{where}: {q}" for where, q in named if q not in known)
        if missing:
            raise ValueError(f"{source} names queues that do not exist ({sorted(known)}): {missing}")

    def queue(self, name: str) -> QueueRule:
        return self.queues.get(name) or QueueRule()

    def penalty(self, extension: str, queue: str) -> int:
        """The penalty of ``extension`` in ``queue``: their level in its skill, else an outsider's."""
        skill = self.queue(queue).skill
        if skill is None:
            return 0
        level = self.agents.get(extension, {}).get(skill)
        return self.skill_penalties[level] if level is not None else self.outsider_penalty

    @classmethod
    def load(cls, path: Path = DEFAULT_RULES, queues: frozenset[str] | None = None) -> RoutingRules:
        with path.open(encoding="utf-8") as f:
            rules = cls.model_validate(yaml.safe_load(f))
        if queues is not None:
            rules.check_queues(queues, str(path))
        return rules
