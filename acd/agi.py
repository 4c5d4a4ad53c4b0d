"""The routing decision at queue entry (FastAGI script ``route``), for calls whose IVR left no ACD decision:
what the channel holds (queue, intent, customer, path) goes through the router, and the decision's variables
are written back. Bounded: a slow answer leaves the IVR's own variables, and the caller is queued anyway."""

from __future__ import annotations

from collections.abc import Callable

from acd.interface import RoutingRequest
from acd.router import AcdRouter
from crm_bridge.interface import CustomerLookup
from crm_bridge.schemas import CustomerCard
from hotline.bounded import bounded
from hotline.fastagi import AgiSession
from hotline.logs import bind_call, get_logger
from hotline.routing import ROUTE_FACTS, ChannelVar

log = get_logger(__name__)

CARD_TIMEOUT = 0.3
DECIDE_TIMEOUT = 0.5


class QueueEntryRouting:
    def __init__(self, router: AcdRouter, customers: Callable[[], CustomerLookup | None]) -> None:
        self.router = router
        self.customers = customers  # late-bound: the CRM's package may be wired after the ACD
        self.routed = 0

    async def _card(self, customer_id: str, caller: str) -> CustomerCard | None:
        customers = self.customers()
        if customers is None:
            return None
        try:
            lookup = (
                customers.card_by_id(int(customer_id)) if customer_id.isdigit() else customers.card_by_phone(caller)
            )
            return await bounded(lookup, CARD_TIMEOUT)
        except Exception as e:
            log.warning("no customer card for the routing decision", error=repr(e))
            return None

    @staticmethod
    async def _facts(agi: AgiSession) -> dict[ChannelVar, str]:
        """What the IVR left, as the dialplan passed it (ROUTE_FACTS, in order), or read from the channel when
        the script was started without them."""
        args = agi.args
        if len(args) == len(ROUTE_FACTS):
            return dict(zip(ROUTE_FACTS, args, strict=True))
        return {v: (await agi.get_variable(v.value)) or "" for v in ROUTE_FACTS}

    async def handle(self, agi: AgiSession) -> None:
        with bind_call(agi.uniqueid):
            facts = await self._facts(agi)
            card = await self._card(facts[ChannelVar.customer_id], agi.caller_number)
            request = RoutingRequest(
                call_id=agi.uniqueid,  # the caller channel: its uniqueid is the call's linkedid
                caller=agi.caller_number,
                customer=card,
                intent=facts[ChannelVar.intent] or "agent",
                queue=facts[ChannelVar.queue] or None,
                ivr_path=facts[ChannelVar.ivr_path][:200],
            )
            try:
                decision = await bounded(self.router.decide(request), DECIDE_TIMEOUT)
            except Exception as e:
                log.warning("routing decision at queue entry failed: the IVR's variables stand", error=repr(e))
                return
            await agi.set_variables({v.value: value for v, value in decision.variables().items()})
            self.routed += 1
            log.info(
                "routed at queue entry",
                queue=decision.queue,
                priority=decision.priority,
                preferred=decision.preferred_agent,
            )
