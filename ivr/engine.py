"""The menu engine: recognise the caller, walk the menu version the call started with, record every node
visit, leave the routing decision in the channel for the dialplan, and tell the rest of the system what was
learned.

Every failure path ends at a person: a failed node (a look-up, a service, speech) is followed by an apology
and the menu's fallback queue; exhausted tries lead to the node's fallback; a walk longer than
``max_steps`` ends at the fallback queue; and if this handler dies the dialplan's defaults still queue the
call.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime

from crm_bridge.interface import CustomerLookup
from crm_bridge.schemas import CustomerCard
from hotline.bounded import bounded
from hotline.bus import EventBus
from hotline.fastagi import AgiHangup, AgiSession
from hotline.logs import get_logger
from hotline.routing import IVR_PRESETS, ChannelVar, RoutingDecision
from ivr.call import Call
from ivr.domain import Domain
from ivr.events import IvrCompleted, IvrStarted, SurveyAnswered
from ivr.nodes import Nodes
from ivr.records import Journal, SurveyRecord, VisitRecord
from ivr.schema import QueueNode
from ivr.store import MenuStore, Version

log = get_logger(__name__)

# nodes that neither speak to the caller nor wait for them: their visits travel with the next ones
INSTANT = frozenset({"set", "condition", "lookup", "action", "queue"})
SURVEY_SEQ = 1000  # the survey after the conversation numbers its visits from here (same call id)


class Engine:
    def __init__(
        self,
        store: MenuStore,
        customers: CustomerLookup,
        domain: Domain,
        bus: EventBus,
        journal: Journal,
        recordings: str,
        clock: Callable[[], datetime],
        lookup_timeout: float,
    ) -> None:
        self.store = store
        self.customers = customers
        self.domain = domain
        self.bus = bus
        self.journal = journal
        self.clock = clock
        self.lookup_timeout = lookup_timeout
        self.nodes = Nodes(domain, journal, recordings, self._surveyed)
        self.calls_total = 0
        self.failures_total = 0

    async def lookup(self, caller: str) -> tuple[CustomerCard | None, bool]:
        """(card, failed): a slow or broken CRM is treated as an unknown caller, never as a dead call."""
        try:
            return await bounded(self.customers.card_by_phone(caller), self.lookup_timeout), False
        except Exception as e:
            log.warning("customer look-up failed; treating caller as unknown", caller=caller, error=repr(e))
            return None, True

    def _new_call(self, agi: AgiSession, version: Version, card: CustomerCard | None, failed: bool) -> Call:
        menu = version.menu
        language = menu.default_language
        known_language = (card.language or "").split("-")[0].lower() if card else ""
        if known_language in menu.languages:
            language = known_language
        call = Call(agi, menu, version.book, card, failed, language, self.clock())
        call.vars.update({"caller": agi.caller_number, "language": language})
        if card is not None:
            call.set_found("customer", {"id": card.id, "name": card.name, "tier": card.tier})
            if known_language in menu.languages:
                call.vars["customer.language"] = known_language
        return call

    async def handle(self, agi: AgiSession) -> None:
        """The ``ivr`` FastAGI route: a caller from the start of the menu."""
        self.calls_total += 1
        version = self.store.current  # this call keeps this version whatever reloads happen meanwhile
        card, failed = await self.lookup(agi.caller_number)
        self.bus.publish(
            IvrStarted(
                uniqueid=agi.uniqueid,
                caller=agi.caller_number,
                channel=agi.env.get("agi_channel", ""),
                customer=card,
                lookup_failed=failed,
            )
        )
        call = self._new_call(agi, version, card, failed)
        finished = False
        try:
            if card:
                await agi.set_variables({ChannelVar.customer_id: str(card.id), ChannelVar.tier: card.tier})
            await self.walk(call, version.menu.start)
            await self._leave_decision(call)
            finished = True
        finally:
            self._completed(call, finished and not agi.hung_up)

    async def survey(self, agi: AgiSession) -> None:
        """The ``survey`` FastAGI route: after the agent hung up, a caller who agreed scores the call."""
        version = self.store.current
        node = version.menu.survey_node
        if node is None:
            return
        call = self._new_call(agi, version, None, False)
        call.seq = SURVEY_SEQ
        language = await agi.get_variable(ChannelVar.language)
        if language in version.menu.languages:
            call.language = language
        interface = await agi.get_variable("MEMBERINTERFACE")  # app_queue's setinterfacevar: PJSIP/1001
        call.vars["agent"] = interface.rsplit("/", 1)[-1] if interface else ""
        await self.walk(call, node, survey=True)

    async def walk(self, call: Call, start: str, survey: bool = False) -> None:
        """Node after node until one ends the walk; failures go to a person, within ``max_steps``.

        The visits of nodes that neither speak to the caller nor wait for them (``INSTANT``) are kept with the
        visits that follow: every visit is on disk before the walk next turns to the caller, and when it ends.
        A controller lost in between loses at most the few milliseconds of a run of such nodes, as it would
        lose a visit whose own write was under way, at a third of the local writes per call."""
        try:
            await self._walk(call, start, survey)
        finally:
            await self._keep_visits(call)

    async def _walk(self, call: Call, start: str, survey: bool) -> None:
        name: str | None = start
        steps = 0
        while name is not None:
            steps += 1
            if steps > call.menu.max_steps:
                log.error("IVR walk too long; handing the caller to a person", path=call.ivr_path())
                self._visit(call, name, "loop", time.monotonic(), "too many steps")
                call.path.append("loop:fallback")
                if not survey:
                    call.decision = _plain(call)
                return
            node = call.menu.nodes[name]
            if node.kind not in INSTANT:
                await self._keep_visits(call)
            began = time.monotonic()
            try:
                step = await self.nodes.handlers[node.kind](node, call)
            except AgiHangup:
                self._visit(call, name, node.kind, began, "hangup")
                raise
            except Exception as e:
                self.failures_total += 1
                log.warning("IVR node failed; apologising and handing over", node=name, error=repr(e))
                self._visit(call, name, node.kind, began, "failed")
                call.path.append(f"{name}:failed")
                if survey:
                    return
                await self._apologise(call)
                if name == call.menu.fallback:  # the person's own node failed: the fallback queue as it is
                    call.decision = _plain(call)
                    return
                name = call.menu.fallback
                continue
            self._visit(call, name, node.kind, began, step.result, step.input)
            call.path += [f"{name}:{mark}" for mark in step.marks]
            name = step.next

    async def _apologise(self, call: Call) -> None:
        await self._keep_visits(call)
        try:
            await call.agi.stream_file(call.prompt(call.menu.apology))
        except AgiHangup:
            raise
        except Exception as e:
            log.warning("IVR apology not played", error=repr(e))

    def _visit(self, call: Call, node: str, kind: str, began: float, result: str, entered: str | None = None) -> None:
        call.seq += 1
        call.unkept.append(
            VisitRecord(
                call_id=call.call_id,
                seq=call.seq,
                menu_version=call.menu.version,
                node=node,
                kind=kind,
                language=call.language,
                input=entered,
                result=result,
                duration_ms=int((time.monotonic() - began) * 1000),
                at=self.clock(),
            )
        )

    async def _keep_visits(self, call: Call) -> None:
        if call.unkept:
            records, call.unkept = call.unkept, []
            await self.journal.keep_visits(records)

    async def _leave_decision(self, call: Call) -> None:
        decision = call.decision or _plain(call)
        call.decision = decision.model_copy(update={"ivr_path": call.ivr_path()})
        variables: dict[ChannelVar, str] = dict(call.decision.variables())
        variables[ChannelVar.language] = call.language
        for var, name in ((ChannelVar.waybill, "waybill"), (ChannelVar.work_order_id, "work_order_id")):
            if call.vars.get(name):
                variables[var] = call.vars[name]
        if call.vars.get("survey") == "yes":
            variables[ChannelVar.survey] = "1"
        # the dialplan wrote the presets before the IVR ran: only what differs
        await call.agi.set_variables({n.value: v for n, v in variables.items() if IVR_PRESETS.get(n) != v})
        log.info("IVR routed", action=call.decision.action.value, queue=call.decision.queue, path=call.ivr_path())

    def _completed(self, call: Call, completed: bool) -> None:
        d = call.decision
        self.bus.publish(
            IvrCompleted(
                uniqueid=call.call_id,
                completed=completed,
                path=call.ivr_path() or None,
                intent=d.intent if d else None,
                queue=d.queue if d else None,
                priority=d.priority if d else 0,
                self_service=completed and call.served,
                language=call.language,
                waybill=call.vars.get("waybill") or None,
                work_order_id=call.int_var("work_order_id"),
                pickup_reference=call.vars.get("pickup.reference") or None,
                menu_version=call.menu.version,
            )
        )

    def _surveyed(self, record: SurveyRecord) -> None:
        self.bus.publish(SurveyAnswered(call_id=record.call_id, agent=record.agent or None, score=record.score))


def _plain(call: Call) -> RoutingDecision:
    """The menu's fallback queue at the caller's tier priority, with no service asked."""
    node = call.menu.nodes[call.menu.fallback]
    assert isinstance(node, QueueNode)
    tier = call.card.tier if call.card else ""
    return RoutingDecision(
        queue=node.queue, intent=node.intent, priority=call.menu.tier_priority.get(tier, 0), ivr_path=call.ivr_path()
    )
