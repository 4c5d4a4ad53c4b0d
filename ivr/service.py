"""The IVR conversation: recognise the caller, greet, walk the menu, leave the routing decision
in channel variables for the dialplan, and tell the rest of the system what was learned.

Every failure path ends at a person: a failed CRM look-up means "unknown caller", an exhausted
menu means the node's fallback route, and if this handler dies the dialplan's defaults still
queue the call.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from crm_bridge.interface import CustomerLookup
from crm_bridge.schemas import CustomerCard
from hotline.bounded import bounded
from hotline.bus import EventBus
from hotline.fastagi import AgiSession
from hotline.logs import get_logger
from hotline.routing import ChannelVar, RoutingDecision
from ivr.events import IvrCompleted, IvrStarted
from ivr.menu import Menu, Route

log = get_logger(__name__)

PRIORITY_BOOST = 10


@dataclass
class Walk:
    route: Route
    path: list[str] = field(default_factory=list)


class IvrService:
    def __init__(
        self, menu: Menu, prompts: dict[str, Path], customers: CustomerLookup, bus: EventBus, lookup_timeout: float
    ) -> None:
        self.menu = menu
        self.prompts = prompts
        self.customers = customers
        self.bus = bus
        self.lookup_timeout = lookup_timeout

    async def lookup(self, caller: str) -> tuple[CustomerCard | None, bool]:
        """(card, failed): a slow or broken CRM is treated as an unknown caller, never as a dead call."""
        try:
            return await bounded(self.customers.card_by_phone(caller), self.lookup_timeout), False
        except Exception as e:
            log.warning("customer look-up failed; treating caller as unknown", caller=caller, error=repr(e))
            return None, True

    async def handle(self, agi: AgiSession) -> None:
        caller = agi.caller_number
        card, failed = await self.lookup(caller)
        priority = PRIORITY_BOOST if card and card.tier in self.menu.priority_tiers else 0
        log.debug("IVR start", caller=caller, customer=card.id if card else None, tier=card.tier if card else None)
        self.bus.publish(
            IvrStarted(
                uniqueid=agi.uniqueid,
                caller=caller,
                channel=agi.env.get("agi_channel", ""),
                customer=card,
                lookup_failed=failed,
            )
        )
        walk: Walk | None = None
        try:
            if card:
                await agi.set_variable(ChannelVar.customer_id, str(card.id))
                await agi.set_variable(ChannelVar.tier, card.tier)
            greeting = self.menu.greeting_priority if priority else self.menu.greeting
            # callers who know the menu may key their choice during the greeting
            early = await agi.stream_file(str(self.prompts[greeting]), self.menu.digits(self.menu.start))
            walk = await self.walk(agi, early)
            decision = RoutingDecision(
                queue=walk.route.queue, intent=walk.route.intent, priority=priority, ivr_path=">".join(walk.path)
            )
            for var, value in decision.variables().items():
                await agi.set_variable(var, value)
            log.info("IVR routed", queue=decision.queue, intent=decision.intent, path=decision.ivr_path)
        finally:
            self.bus.publish(
                IvrCompleted(
                    uniqueid=agi.uniqueid,
                    completed=walk is not None and not agi.hung_up,
                    path=">".join(walk.path) if walk else None,
                    intent=walk.route.intent if walk else None,
                    queue=walk.route.queue if walk else None,
                    priority=priority,
                )
            )

    async def walk(self, agi: AgiSession, early_digit: str = "") -> Walk:
        path: list[str] = []
        name = self.menu.start
        visited = 0
        while visited < 20:  # a misconfigured goto loop still ends at a person
            visited += 1
            node = self.menu.nodes[name]
            for _ in range(node.tries):
                if early_digit:
                    digits, early_digit = early_digit, ""
                else:
                    digits, _ = await agi.get_data(str(self.prompts[node.prompt]), node.timeout_ms, 1)
                option = node.options.get(digits)
                if option is not None:
                    path.append(f"{name}:{digits}")
                    if option.route is not None:
                        return Walk(option.route, path)
                    assert option.goto is not None
                    name = option.goto
                    break
                path.append(f"{name}:{'?' if digits else 't'}")
                retry_prompt = node.invalid if digits else node.no_input
                if retry_prompt:
                    await agi.stream_file(str(self.prompts[retry_prompt]))
            else:
                path.append(f"{name}:fallback")
                return Walk(node.fallback, path)
        path.append("loop:fallback")
        return Walk(self.menu.nodes[self.menu.start].fallback, path)
