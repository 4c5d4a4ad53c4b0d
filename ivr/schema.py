"""The IVR menu's node kinds: one pydantic model per kind, told apart by ``kind``.

Every node names the nodes it leads to; ``ivr/menu.py`` checks that they exist, that the prompts they play
are defined and that the queues they name are the ACD's. Values read from the call's variables are named
by the variable (``waybill``, ``shipment.status``); templates (``set``, work-order subjects) use
``{variable}``.
"""

from __future__ import annotations

import re
from datetime import date, time
from typing import Annotated, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

KEYS = set("0123456789*#")
VAR = re.compile(r"^[a-z][a-z0-9_.]*$")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class Retry(Strict):
    """Asking for input: how long to wait, how many tries, what to say between tries."""

    timeout_ms: int = Field(5000, ge=1000, le=30000)
    tries: int = Field(3, ge=1, le=10)
    invalid: str | None = None  # prompt after a wrong entry
    no_input: str | None = None  # prompt after silence


class NodeBase(Strict):
    fallback: str | None = None  # where exhausted tries and failures lead (default: the menu's fallback)

    def targets(self) -> dict[str, str]:
        """The nodes this one leads to, by the field naming them."""
        names = {"fallback": self.fallback} if self.fallback else {}
        for field in ("next", "found", "not_found", "failed", "then", "otherwise", "ok", "unavailable"):
            value = getattr(self, field, None)
            if value:
                names[field] = value
        return names

    def prompts(self) -> list[str]:
        used = [getattr(self, f, None) for f in ("prompt", "invalid", "no_input")]
        return [p for p in used if p]


class PlayNode(NodeBase):
    kind: Literal["play"]
    prompt: str
    next: str
    interruptible: bool = False  # a key pressed during it is kept for the next menu


class Option(Strict):
    next: str
    keywords: dict[str, list[str]] = {}  # language → words that choose this option (speech, when available)


class MenuNode(NodeBase, Retry):
    kind: Literal["menu"]
    prompt: str
    options: dict[str, Option]

    @field_validator("options")
    @classmethod
    def _keys(cls, v: dict[str, Option]) -> dict[str, Option]:
        bad = [k for k in v if len(k) != 1 or k not in KEYS]
        if bad:
            raise ValueError(f"options {bad} are not single keypad keys (0-9, *, #)")
        if not v:
            raise ValueError("a menu needs at least one option")
        return v

    def targets(self) -> dict[str, str]:
        return {**super().targets(), **{f"option {k}": o.next for k, o in self.options.items()}}


class Validation(Strict):
    """What a keyed entry must be: any digits, a waybill (check digit), a postal code, a number in a range,
    or a time of day (HHMM)."""

    kind: Literal["digits", "waybill", "postal_code", "range", "time"] = "digits"
    min: int | None = None
    max: int | None = None


class CollectNode(NodeBase, Retry):
    kind: Literal["collect"]
    prompt: str
    var: str
    min_digits: int = Field(1, ge=1, le=40)
    max_digits: int = Field(20, ge=1, le=40)
    terminator: Literal["#"] = "#"  # the key that ends an entry early (Asterisk's GET DATA ends on #)
    validate_as: Validation = Field(default_factory=Validation, alias="validate")
    next: str

    @model_validator(mode="after")
    def _lengths(self) -> Self:
        if self.min_digits > self.max_digits:
            raise ValueError(f"min_digits {self.min_digits} is more than max_digits {self.max_digits}")
        return self


class LookupNode(NodeBase):
    """Looks something up (bounded); the result's fields become variables (``shipment.status``, …)."""

    kind: Literal["lookup"]
    lookup: Literal["customer", "shipment", "station"]
    input: str | None = None  # the variable holding the key (a waybill, a postal code); customers: the caller
    found: str
    not_found: str
    failed: str | None = None  # default: an apology, then the fallback


class SayItem(Strict):
    """One piece of a ``say`` node: exactly one of these."""

    prompt: str | None = None  # a named prompt
    digits: str | None = None  # a variable read digit by digit (a waybill, a reference)
    number: str | None = None  # a variable read as a number
    date: str | None = None  # a variable holding an ISO date or date-time
    time: str | None = None  # a variable holding an ISO time or date-time
    text: str | None = None  # a variable read by the synthesiser (an address, a place)
    choose: str | None = None  # a variable whose value picks the prompt ``<prefix><value>``
    prefix: str = ""
    when: str | None = None  # say this item only if that variable is set and not empty

    @model_validator(mode="after")
    def _one(self) -> Self:
        given = [f for f in ("prompt", "digits", "number", "date", "time", "text", "choose") if getattr(self, f)]
        if len(given) != 1:
            raise ValueError(f"a say item needs exactly one of prompt/digits/number/date/time/text/choose, got {given}")
        return self


class SayNode(NodeBase):
    kind: Literal["say"]
    items: list[SayItem] = Field(min_length=1)
    next: str
    interruptible: bool = False  # a key stops it (kept for the next menu); a key already pressed skips it


class SetNode(NodeBase):
    """Sets variables from templates; ``language`` also switches the call's prompts (and is remembered
    on a known caller's record)."""

    kind: Literal["set"]
    values: dict[str, str]
    next: str

    @field_validator("values")
    @classmethod
    def _names(cls, v: dict[str, str]) -> dict[str, str]:
        bad = [k for k in v if not VAR.match(k)]
        if bad:
            raise ValueError(f"variable names {bad} must be lower case letters, digits, '_' and '.'")
        return v


class ConditionNode(NodeBase):
    """``open``: within the hotline's hours now; ``holiday``: today is a holiday; ``tier`` / ``language``:
    the caller's is one of ``values``; ``known``: the caller is a customer; ``var``: variable ``var`` is one of
    ``values`` (or set at all, when ``values`` is empty); ``queue_load``: ``queue`` has at least
    ``waiting_at_least`` callers waiting or an expected wait of at least ``wait_at_least_s`` (with nobody
    logged in there is no estimate: the queue's own no-agent path applies); its figures become
    ``queue.waiting``, ``queue.expected_wait_s`` and ``queue.expected_wait_min``. A load that cannot be read
    takes ``else`` (the caller simply queues)."""

    kind: Literal["condition"]
    test: Literal["open", "holiday", "tier", "language", "known", "var", "queue_load"]
    values: list[str] = []
    var: str | None = None
    queue: str | None = None
    waiting_at_least: int | None = Field(None, ge=1)
    wait_at_least_s: int | None = Field(None, ge=1)
    then: str
    otherwise: str = Field(alias="else")

    @model_validator(mode="after")
    def _needs(self) -> Self:
        if self.test == "var" and not self.var:
            raise ValueError("test 'var' needs 'var'")
        if self.test == "queue_load" and not self.queue:
            raise ValueError("test 'queue_load' needs 'queue'")
        if self.test == "queue_load" and self.waiting_at_least is None and self.wait_at_least_s is None:
            raise ValueError("test 'queue_load' needs 'waiting_at_least' or 'wait_at_least_s'")
        if self.test != "queue_load" and (self.queue or self.waiting_at_least or self.wait_at_least_s):
            raise ValueError(f"test {self.test!r} takes no queue or load thresholds")
        if self.test in ("tier", "language") and not self.values:
            raise ValueError(f"test {self.test!r} needs 'values'")
        return self


class QueueNode(NodeBase):
    """Hands the caller to a person: the ACD's router decides when there is one, else this queue with the
    node's priority (or the caller's tier priority)."""

    kind: Literal["queue"]
    queue: str
    intent: str = Field("agent", max_length=40)
    priority: int | None = Field(None, ge=0, le=100)


class RecordNode(NodeBase):
    """Records the caller (after a beep, up to ``max_seconds``, # ends it); the file goes in ``var``."""

    kind: Literal["record"]
    prompt: str
    var: str
    max_seconds: int = Field(60, ge=3, le=600)
    next: str


class VoicemailNode(NodeBase):
    """A recorded message that becomes a work order, then ``next`` (usually a goodbye)."""

    kind: Literal["voicemail"]
    prompt: str
    max_seconds: int = Field(60, ge=3, le=600)
    work_order_type: Literal["inquiry", "complaint", "pickup_booking", "delivery_urging"] = "inquiry"
    subject: str = "Voice message left in the IVR"
    next: str


class CallbackNode(NodeBase):
    """Asks the ACD to call the caller back; where there is no callback service, ``unavailable``."""

    kind: Literal["callback"]
    queue: str
    reason: Literal["closed", "long_wait", "queue_exit", "ivr"] = "ivr"
    next: str
    unavailable: str


class SurveyNode(NodeBase, Retry):
    """A 1–5 score, stored against the call (and the agent, after a conversation)."""

    kind: Literal["survey"]
    prompt: str
    next: str


class ActionNode(NodeBase):
    """Does something in another package: open a work order, book a pickup. ``ok`` on success; ``failed``
    (default: an apology, then the fallback) otherwise. What it created becomes variables
    (``work_order_id``, ``pickup.reference``)."""

    kind: Literal["action"]
    action: Literal["open_work_order", "book_pickup"]
    params: dict[str, str] = {}  # templates over the call's variables
    ok: str
    failed: str | None = None


class HangupNode(NodeBase):
    kind: Literal["hangup"]
    prompt: str | None = None
    served: bool = True  # the caller was served by self-service (not e.g. sent away closed)


Node = Annotated[
    PlayNode
    | MenuNode
    | CollectNode
    | LookupNode
    | SayNode
    | SetNode
    | ConditionNode
    | QueueNode
    | RecordNode
    | VoicemailNode
    | CallbackNode
    | SurveyNode
    | ActionNode
    | HangupNode,
    Field(discriminator="kind"),
]

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
SPAN = re.compile(r"^(\d\d):(\d\d)-(\d\d):(\d\d)$")


def parse_span(text: str) -> tuple[time, time]:
    m = SPAN.match(text)
    if not m:
        raise ValueError(f"{text!r} is not HH:MM-HH:MM")
    h1, m1, h2, m2 = (int(x) for x in m.groups())
    # 24:00 is the end of the day (a 24-hour line is open through midnight, not closed from 23:59)
    start, end = time(h1, m1), (time.max if (h2, m2) == (24, 0) else time(h2, m2))
    if end <= start:
        raise ValueError(f"{text!r} ends before it starts")
    return start, end


class Hours(Strict):
    """The hotline's opening hours: intervals per weekday and holidays (closed, or their own intervals)."""

    timezone: str = "Asia/Shanghai"
    weekly: dict[Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"], list[str]]
    holidays: dict[date, list[str]] = {}

    @model_validator(mode="after")
    def _spans(self) -> Self:
        for spans in [*self.weekly.values(), *self.holidays.values()]:
            for s in spans:
                parse_span(s)
        return self
