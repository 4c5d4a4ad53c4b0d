"""The routing decision (implements ``acd.interface.Router``): caller → customer → tier → queue and priority,
the agent who rings first, the starting skill penalty, the wait, the hours; stored with its reasons.

Everything it reads is in memory (rules, agents' live states, the sticky-agent cache); only a sticky-agent
cache miss asks the contact history, bounded. The record goes to the outbox in the background: the
decision does not wait for the fsync.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from acd.decisions import DECISION_KIND, DecisionRecord, Reason
from acd.interface import RoutingRequest
from acd.queues import Queues
from acd.rules import RoutingRules
from acd.sticky import StickyAgents
from hotline.hours import Schedule, opening
from hotline.logs import get_logger
from hotline.outbox import Outbox
from hotline.routing import Action, RoutingDecision

log = get_logger(__name__)


class AcdRouter:
    def __init__(
        self,
        rules: RoutingRules,
        queues: Queues,
        is_free: Callable[[str], bool],
        sticky: StickyAgents,
        outbox: Outbox,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        pool: Callable[[str, int], int] = lambda queue, max_penalty: 1,
    ) -> None:
        self.rules = rules
        self.pool = pool  # logged-in agents of a queue within a penalty
        self.queues = queues
        self.is_free = is_free
        self.sticky = sticky
        self.outbox = outbox
        self.clock = clock
        self.schedules: dict[str, Schedule] = {n: s.schedule() for n, s in rules.schedules.items()}
        self._pending: set[asyncio.Task[None]] = set()
        self.decided = 0

    def _queue(self, request: RoutingRequest, tier: str | None, reasons: list[Reason]) -> str:
        names = self.queues.names()
        language = request.language or (request.customer.language if request.customer else None)
        rule = self.rules.tiers.get(tier or "")
        if language:
            lang_queue = self.rules.languages.get(language.split("-")[0].lower())
            if lang_queue in names:
                reasons.append(Reason(kind="skill", detail=f"language {language} → {lang_queue}"))
                return lang_queue
        if rule is not None and rule.queue in names:
            assert rule.queue is not None
            reasons.append(Reason(kind="tier", detail=f"{tier} has its own queue {rule.queue}"))
            return rule.queue
        intent_queue = self.rules.intents.get(request.intent)
        if intent_queue in names:
            assert intent_queue is not None
            reasons.append(Reason(kind="skill", detail=f"intent {request.intent} → {intent_queue}"))
            return intent_queue
        if request.queue in names:
            assert request.queue is not None
            reasons.append(Reason(kind="menu", detail=f"the menu's queue {request.queue}"))
            return request.queue
        if request.queue:
            reasons.append(Reason(kind="menu", detail=f"unknown queue {request.queue}: the default"))
        return self.queues.default

    async def _preferred(
        self, request: RoutingRequest, tier: str | None, reasons: list[Reason]
    ) -> tuple[str, str, int] | None:
        """(agent, why, ring seconds) of the agent who should ring first, if any is free."""
        card = request.customer
        if card is None:
            return None
        dedicated = card.dedicated_agent
        if dedicated:
            if self.is_free(dedicated):
                ring = self.rules.dedicated.ring_seconds
                reasons.append(
                    Reason(kind="dedicated", detail=f"dedicated agent {dedicated} is free: rings {ring} s first")
                )
                return dedicated, "dedicated", ring
            reasons.append(Reason(kind="dedicated", detail=f"dedicated agent {dedicated} is not free: the queue"))
        if tier in self.rules.sticky.tiers:
            last = await self.sticky.last(card.id)
            if last and last != dedicated:
                if self.is_free(last):
                    ring = self.rules.sticky.ring_seconds
                    reasons.append(Reason(kind="sticky", detail=f"{last} served them last: rings {ring} s first"))
                    return last, "sticky", ring
                reasons.append(Reason(kind="sticky", detail=f"{last} served them last but is not free"))
        return None

    async def decide(self, request: RoutingRequest) -> RoutingDecision:
        now = self.clock()
        reasons: list[Reason] = []
        card = request.customer
        tier = card.tier if card else None
        rule = self.rules.tiers.get(tier or "")
        priority = rule.priority if rule else self.rules.unknown_priority
        reasons.append(
            Reason(
                kind="tier",
                detail=f"{tier or 'unknown caller'}: priority {priority}"
                + (" (green channel)" if rule and rule.green else ""),
            )
        )
        queue = self._queue(request, tier, reasons)
        q = self.rules.queue(queue)
        action, is_open, opens_at = Action.queue, True, None
        if q.hours:
            o = opening(self.schedules[q.hours], now)
            if not o.open:
                action, is_open, opens_at = Action.voicemail, False, o.next_open
                when = o.next_open.isoformat() if o.next_open else "not within the horizon"
                reasons.append(Reason(kind="hours", detail=f"{queue} is closed ({q.hours}); opens {when}"))
        preferred = await self._preferred(request, tier, reasons) if is_open else None
        max_penalty = q.start_penalty
        if q.skill:
            overflow = ", ".join(f"{o.max_penalty} after {o.after} s" for o in q.overflow) or "none"
            reasons.append(Reason(kind="skill", detail=f"{queue} needs {q.skill}: max penalty {q.start_penalty}"))
            reasons.append(Reason(kind="overflow", detail=f"widens to {overflow}"))
            if max_penalty is not None and q.overflow and not self.pool(queue, max_penalty):
                max_penalty = q.overflow[-1].max_penalty
                reasons.append(
                    Reason(kind="overflow", detail=f"no {q.skill} agent logged in: max penalty {max_penalty} at once")
                )
        decision = RoutingDecision(
            action=action,
            queue=queue,
            priority=priority,
            intent=request.intent[:40],
            ivr_path=request.ivr_path[:200],
            preferred_agent=preferred[0] if preferred else None,
            preferred_ring=preferred[2] if preferred else 0,
            max_penalty=max_penalty,
            max_wait=q.max_wait,
            decided_by="acd",
            open=is_open,
            opens_at=opens_at,
        )
        self.decided += 1
        self._store(
            DecisionRecord(
                decision_id=uuid.uuid4().hex,
                call_id=request.call_id,
                at=now,
                customer_id=card.id if card else None,
                tier=tier,
                intent=request.intent[:40],
                action=action.value,
                queue=queue,
                priority=priority,
                preferred_agent=decision.preferred_agent,
                preferred_reason=preferred[1] if preferred else None,
                max_penalty=max_penalty,
                reasons=reasons,
            )
        )
        return decision

    def _store(self, record: DecisionRecord) -> None:
        task = asyncio.ensure_future(self._put(record))
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def _put(self, record: DecisionRecord) -> None:
        try:
            await self.outbox.put(DECISION_KIND, record)
        except Exception as e:
            log.error("routing decision not stored", call=record.call_id, error=repr(e))

    async def settle(self) -> None:
        """Wait for the records under way (tests, shutdown)."""
        if self._pending:
            await asyncio.gather(*list(self._pending), return_exceptions=True)

    def stats(self) -> dict[str, Any]:
        return {"decided": self.decided, "sticky_lookups": self.sticky.misses}
