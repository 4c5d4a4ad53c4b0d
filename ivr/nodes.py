"""What each kind of node does with the caller. Each handler returns a ``Step``; a failure raises ``Failure``
(or anything else): the engine apologises and hands the caller to a person."""

from __future__ import annotations

import math
import re
from collections.abc import Awaitable, Callable
from typing import Any
from zoneinfo import ZoneInfo

from hotline.fastagi import AgiHangup
from hotline.hours import opening
from hotline.logs import get_logger
from hotline.routing import Action, RoutingDecision
from ivr import say
from ivr.call import Call, Failure, Step
from ivr.domain import Domain
from ivr.interface import SPEECH
from ivr.records import Journal, SurveyRecord
from ivr.schema import (
    ActionNode,
    CallbackNode,
    CollectNode,
    ConditionNode,
    HangupNode,
    LookupNode,
    MenuNode,
    PlayNode,
    QueueNode,
    RecordNode,
    Retry,
    SayNode,
    SetNode,
    SurveyNode,
    Validation,
    VoicemailNode,
)
from shipments.errors import InvalidWaybill
from shipments.waybills import validate as validate_waybill

log = get_logger(__name__)
POSTAL = re.compile(r"^\d{6}$")
ALL_KEYS = "0123456789*#"


class Nodes:
    def __init__(self, domain: Domain, journal: Journal, recordings: str, on_survey: Callable[[SurveyRecord], Any]):
        self.domain = domain
        self.journal = journal
        self.recordings = recordings
        self.on_survey = on_survey
        self.handlers: dict[str, Callable[[Any, Call], Awaitable[Step]]] = {
            "play": self.play,
            "menu": self.menu,
            "collect": self.collect,
            "lookup": self.lookup,
            "say": self.say,
            "set": self.set,
            "condition": self.condition,
            "queue": self.queue,
            "record": self.record,
            "voicemail": self.voicemail,
            "callback": self.callback,
            "survey": self.survey,
            "action": self.action,
            "hangup": self.hangup,
        }

    def fallback(self, node: Any, call: Call) -> str:
        return str(node.fallback or call.menu.fallback)

    # ---- prompts and input -----------------------------------------------------------------------
    async def play(self, node: PlayNode, call: Call) -> Step:
        key = await call.agi.stream_file(call.prompt(node.prompt), ALL_KEYS if node.interruptible else "")
        call.pending_key = key
        return Step(node.next, "played", key or None)

    async def _ask(
        self,
        node: Retry,
        call: Call,
        prompt: str,
        max_digits: int,
        accept: Callable[[str], str | None],
        read: Callable[[], Awaitable[str]] | None = None,
    ) -> tuple[str | None, list[str], str]:
        """Ask up to ``tries`` times: (the accepted value or None when exhausted, a mark per try — the value,
        ``?`` for a wrong entry, ``t`` for silence — and the entry, or every entry when exhausted)."""
        entries: list[str] = []
        marks: list[str] = []
        for attempt in range(1, node.tries + 1):
            if call.pending_key:
                entered, call.pending_key = call.pending_key, ""
            elif read is not None:
                entered = await read()
            else:
                entered, _ = await call.agi.get_data(call.prompt(prompt), node.timeout_ms, max_digits)
            entries.append(entered)
            value = accept(entered) if entered else None
            if value is not None:
                return value, marks, entered
            marks.append("?" if entered else "t")
            again = node.invalid if entered else node.no_input
            if again and attempt < node.tries:
                await call.agi.stream_file(call.prompt(again))
        return None, [*marks, "fallback"], ",".join(entries).strip(",")

    async def menu(self, node: MenuNode, call: Call) -> Step:
        speech = self.domain.get(SPEECH)
        keywords = {k: o.keywords[call.language] for k, o in node.options.items() if call.language in o.keywords}
        if speech is not None and keywords and speech.supports(call.language) and not call.pending_key:
            return await self._spoken_menu(node, call, speech, keywords)
        key, marks, entered = await self._ask(node, call, node.prompt, 1, lambda k: k if k in node.options else None)
        if key is None:
            return Step(self.fallback(node, call), "exhausted", entered or None, marks)
        result = f"key {key}" + (f" (try {len(marks) + 1})" if marks else "")
        return Step(node.options[key].next, result, key, [*marks, key])

    async def _spoken_menu(self, node: MenuNode, call: Call, speech: Any, keywords: dict[str, list[str]]) -> Step:
        for attempt in range(1, node.tries + 1):
            try:
                answer = await speech.ask(
                    call.agi, call.book.prompt(node.prompt, call.language), keywords, call.language, node.timeout_ms
                )
            except Exception as e:
                raise Failure(f"speech: {e!r}") from e
            if answer.key in node.options:
                how = "said" if answer.by == "speech" else "key"
                heard = answer.heard or answer.key
                return Step(node.options[answer.key].next, f"{how} {answer.key}", heard, [answer.key])
            again = node.invalid if answer.key or answer.heard else node.no_input
            if again and attempt < node.tries:
                await call.agi.stream_file(call.prompt(again))
        return Step(self.fallback(node, call), "exhausted", None, ["fallback"])

    async def collect(self, node: CollectNode, call: Call) -> Step:
        def accept(entered: str) -> str | None:
            digits = entered.rstrip("#")
            if not (node.min_digits <= len(digits) <= node.max_digits):
                return None
            return check(node.validate_as, digits)

        said: list[str] = []
        read: Callable[[], Awaitable[str]] | None = None
        speech = self.domain.get(SPEECH)
        if speech is not None and speech.supports_digits(call.language) and not call.pending_key:

            async def read() -> str:
                try:
                    answer = await speech.ask_digits(
                        call.agi, call.book.prompt(node.prompt, call.language), call.language, node.timeout_ms,
                        node.max_digits,
                    )  # fmt: skip
                except AgiHangup:
                    raise
                except Exception as e:
                    raise Failure(f"speech: {e!r}") from e
                said.append(answer.by)
                return answer.key or ""

        value, marks, entered = await self._ask(node, call, node.prompt, node.max_digits, accept, read)
        if value is None:
            return Step(self.fallback(node, call), "exhausted", entered or None, marks)
        call.vars[node.var] = value
        how = " (said)" if said and said[-1] == "speech" else ""
        result = "valid" + how + (f" (try {len(marks) + 1})" if marks else "")
        return Step(node.next, result, value, [*marks, "ok"])

    async def survey(self, node: SurveyNode, call: Call) -> Step:
        accept: Callable[[str], str | None] = lambda k: k if k in "12345" and len(k) == 1 else None  # noqa: E731
        score, _marks, entered = await self._ask(node, call, node.prompt, 1, accept)
        if score is None:
            return Step(node.next, "no answer", entered or None)
        record = SurveyRecord(
            call_id=call.call_id, agent=call.vars.get("agent"), score=int(score), at=self.domain.clock()
        )
        await self.journal.survey(record)
        self.on_survey(record)
        return Step(node.next, f"score {score}", score)

    # ---- data ------------------------------------------------------------------------------------
    async def lookup(self, node: LookupNode, call: Call) -> Step:
        key = call.vars.get(node.input) if node.input else None
        try:
            if node.lookup == "customer":
                found = await self.domain.customer(call, key)
            elif key is None:
                found = False
            elif node.lookup == "shipment":
                found = await self.domain.shipment(call, key)
            else:
                found = await self.domain.station(call, key)
        except Failure:
            if node.failed is None:
                raise
            return Step(node.failed, "failed", key)
        return Step(node.found if found else node.not_found, "found" if found else "not found", key)

    async def say(self, node: SayNode, call: Call) -> Step:
        zone = call.menu.hours.timezone if call.menu.hours else None
        if node.interruptible and call.pending_key:
            return Step(node.next, "skipped", call.pending_key)
        escape = ALL_KEYS if node.interruptible else ""

        async def play(path: str) -> None:
            key = await call.agi.stream_file(path, escape)
            if key:
                call.pending_key = key

        def interrupted() -> bool:
            return node.interruptible and bool(call.pending_key)

        for item in node.items:
            if interrupted():
                return Step(node.next, "interrupted", call.pending_key)
            if item.when and not call.vars.get(item.when):
                continue
            if item.prompt:
                await play(call.prompt(item.prompt))
                continue
            name = item.digits or item.number or item.date or item.time or item.text or item.choose or ""
            value = call.vars.get(name)
            if not value:
                continue
            if item.choose:
                prompt = f"{item.prefix}{value}"
                if prompt in call.menu.prompts:
                    await play(call.prompt(prompt))
                continue
            if item.text:
                try:
                    path = await call.book.text(value, call.language)
                except Exception as e:
                    raise Failure(f"speech synthesis: {e!r}") from e
                await play(str(path))
                continue
            if item.digits:
                parts = say.digits(value)
            elif item.number:
                parts = say.number(value)
            elif item.date:
                parts = say.say_date(value, call.language, zone)
            else:
                parts = say.say_time(value, call.language, zone)
            for part in parts:
                fragment = call.fragment(part)
                if fragment is not None and not interrupted():
                    await play(str(fragment))
        return Step(node.next, "interrupted" if interrupted() else "said", call.pending_key or None)

    async def set(self, node: SetNode, call: Call) -> Step:
        for name, template in node.values.items():
            call.vars[name] = call.render(template)
        language = node.values.get("language") and call.vars["language"]
        if language and language in call.menu.languages and language != call.language:
            call.language = language
            await self.domain.remember_language(call)
        return Step(node.next, "set", ",".join(f"{k}={call.vars[k]}" for k in node.values)[:80])

    async def condition(self, node: ConditionNode, call: Call) -> Step:
        now = self.domain.clock()
        schedule = call.menu.schedule()
        if node.test == "open":
            ok = schedule is None or opening(schedule, now).open
        elif node.test == "holiday":
            ok = schedule is not None and now.astimezone(ZoneInfo(schedule.timezone)).date() in schedule.holidays
        elif node.test == "tier":
            ok = call.card is not None and call.card.tier in node.values
        elif node.test == "language":
            ok = call.language in node.values
        elif node.test == "known":
            ok = call.card is not None
        elif node.test == "queue_load":
            return await self._queue_load(node, call)
        else:
            value = call.vars.get(node.var or "")
            ok = bool(value) and (not node.values or value in node.values)
        return Step(node.then if ok else node.otherwise, "yes" if ok else "no")

    async def _queue_load(self, node: ConditionNode, call: Call) -> Step:
        assert node.queue is not None
        try:
            load = await self.domain.queue_load(node.queue)
        except Failure:
            load = None
        if load is None:
            return Step(node.otherwise, "unknown")
        wait = load.expected_wait_s
        call.vars["queue.waiting"] = str(load.waiting)
        if wait is None:
            call.vars.pop("queue.expected_wait_s", None)
            call.vars.pop("queue.expected_wait_min", None)
        else:
            call.vars["queue.expected_wait_s"] = str(round(wait))
            call.vars["queue.expected_wait_min"] = str(max(1, math.ceil(wait / 60)))
        # nobody logged in (no estimate) is left to the queue's own no-agent path (voicemail), not judged here
        long_wait = node.wait_at_least_s is not None and wait is not None and wait >= node.wait_at_least_s
        crowded = node.waiting_at_least is not None and load.waiting >= node.waiting_at_least
        figures = f"waiting {load.waiting}, wait {'-' if wait is None else round(wait)} s"
        busy = long_wait or crowded
        return Step(node.then if busy else node.otherwise, "yes" if busy else "no", figures)

    # ---- endings ---------------------------------------------------------------------------------
    async def queue(self, node: QueueNode, call: Call) -> Step:
        tier = call.card.tier if call.card else ""
        priority = node.priority if node.priority is not None else call.menu.tier_priority.get(tier, 0)
        call.vars["intent"] = node.intent
        own = RoutingDecision(queue=node.queue, intent=node.intent, priority=priority, ivr_path=call.ivr_path())
        call.decision = await self.domain.route(call, own)
        return Step(None, f"queue {call.decision.queue} p{call.decision.priority}")

    async def record(self, node: RecordNode, call: Call) -> Step:
        await call.agi.stream_file(call.prompt(node.prompt))
        path = f"{self.recordings}/ivr-{call.call_id}-{call.seq}"
        ended = await call.agi.record_file(path, node.max_seconds * 1000)
        call.vars[node.var] = f"{path}.wav"
        return Step(node.next, f"recorded ({ended})"[:80])

    async def voicemail(self, node: VoicemailNode, call: Call) -> Step:
        await call.agi.stream_file(call.prompt(node.prompt))
        path = f"{self.recordings}/ivr-{call.call_id}-{call.seq}"
        try:
            await call.agi.record_file(path, node.max_seconds * 1000)
        except AgiHangup:  # most callers hang up after their message: it still becomes a work order
            try:
                await self._message_order(node, call, path)
            except Exception as e:
                log.error("IVR: a voice message left before hanging up has no work order", error=repr(e))
            raise
        opened = await self._message_order(node, call, path)
        return Step(node.next, f"work order {opened}")

    async def _message_order(self, node: VoicemailNode, call: Call, path: str) -> int:
        params = {
            "type": node.work_order_type,
            "subject": node.subject,
            "notes": f"Voice message from {{caller}}: {path}.wav",
            "waybill": "{waybill}",
        }
        call.vars.setdefault("caller", call.caller)
        opened = await self.domain.open_work_order(call, params)
        if opened is None:
            raise Failure("no work-order service for the voice message")
        return opened

    async def callback(self, node: CallbackNode, call: Call) -> Step:
        schedule = call.menu.schedule()
        now = self.domain.clock()
        not_before = opening(schedule, now).next_open if schedule is not None else None
        try:
            asked = await self.domain.callback(call, node.queue, node.reason, not_before)
        except Failure:
            return Step(node.unavailable, "failed")
        return Step(node.next, "requested") if asked else Step(node.unavailable, "unavailable")

    async def action(self, node: ActionNode, call: Call) -> Step:
        try:
            if node.action == "open_work_order":
                made: object = await self.domain.open_work_order(call, node.params)
            else:
                zone = call.menu.hours.timezone if call.menu.hours else "UTC"
                made = await self.domain.book_pickup(call, node.params, zone)
        except Failure:
            if node.failed is None:
                raise
            return Step(node.failed, "failed")
        if made is None:
            if node.failed is None:
                raise Failure(f"no service for {node.action}")
            return Step(node.failed, "unavailable")
        return Step(node.ok, f"done {made}")

    async def hangup(self, node: HangupNode, call: Call) -> Step:
        if node.prompt:
            await call.agi.stream_file(call.prompt(node.prompt))
        call.served = node.served
        call.decision = RoutingDecision(
            action=Action.hangup,
            queue=call.menu.queues().get(call.menu.fallback, "support"),
            intent=call.vars.get("intent", "self_service"),
            priority=0,
            ivr_path=call.ivr_path(),
        )
        return Step(None, "served" if node.served else "ended")


def check(rule: Validation, digits: str) -> str | None:
    """The entry in its canonical form if it passes ``rule``, else None."""
    if rule.kind == "waybill":
        try:
            return validate_waybill(digits)
        except InvalidWaybill:
            return None
    if rule.kind == "postal_code":
        return digits if POSTAL.match(digits) else None
    if rule.kind == "time":
        if len(digits) != 4 or int(digits[:2]) > 23 or int(digits[2:]) > 59:
            return None
        return digits
    if rule.kind == "range":
        n = int(digits) if digits.isdigit() else None
        if n is None or (rule.min is not None and n < rule.min) or (rule.max is not None and n > rule.max):
            return None
        return str(n)
    return digits if digits.isdigit() else None
