"""Agents' live states from app_queue's events: ringing, on call, on hold, wrap-up; ring-no-answer pauses the
agent (the call goes on to the next one); wrap-up pauses the agent in every queue until the disposition (or
the queue's after-call time, when no disposition is required).

AMI handlers are synchronous (the client's contract) and spawn the state change, in order per agent.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from acd.models import AgentState, Disposition
from acd.rules import RoutingRules
from acd.service import WRAPUP_REASON, AgentService
from hotline.channels import extension_of
from hotline.db import table_of
from hotline.errors import Conflict
from hotline.logs import get_logger
from hotline.outbox import Outbox
from hotline.routing import DIRECT_QUEUE_PREFIX

log = get_logger(__name__)

DISPOSITION_KIND = "disposition"
LEAVE_GRACE = 1.0  # a caller leaving the queue while an agent rang them: did the agent connect meanwhile?
AMI_EVENTS = (
    "AgentCalled",
    "AgentConnect",
    "AgentComplete",
    "AgentRingNoAnswer",
    "QueueCallerLeave",
    "Hold",
    "Unhold",
)


class DispositionRecord(BaseModel):
    event_id: str
    agent: str
    call_id: str | None
    queue: str | None
    code: str
    note: str | None
    at: datetime


_DISPOSITIONS = insert(table_of(Disposition)).on_conflict_do_nothing(index_elements=["event_id"])


async def store_dispositions(session: AsyncSession, records: list[DispositionRecord]) -> None:
    await session.execute(_DISPOSITIONS, [r.model_dump() for r in records])


class Floor:
    def __init__(
        self,
        agents: AgentService,
        rules: RoutingRules,
        outbox: Outbox,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.agents = agents
        self.rules = rules
        self.outbox = outbox
        self.clock = clock
        self._chains: dict[str, asyncio.Future[None]] = {}  # per agent: its changes run one after another
        self._wrapup_timers: dict[str, asyncio.TimerHandle] = {}
        self.last_call: dict[str, tuple[str | None, str | None]] = {}  # agent → (call, queue) of their wrap-up
        self.no_answer_pauses = 0
        outbox.register(DISPOSITION_KIND, DispositionRecord, store_dispositions)

    def register_ami(self, on: Callable[[str, Callable[[dict[str, Any]], object]], None]) -> None:
        for event in AMI_EVENTS:
            on(event, getattr(self, f"on_{event}"))

    def _then(self, agent: str, work: Callable[[], Coroutine[Any, Any, None]]) -> None:
        """Run ``work`` after the agent's previous change (AMI order is kept per agent)."""
        previous = self._chains.get(agent)

        async def run() -> None:
            if previous is not None:
                await asyncio.gather(previous, return_exceptions=True)
            try:
                await work()
            except Exception as e:
                log.warning("agent state change failed", agent=agent, error=repr(e))

        task = asyncio.ensure_future(run())
        self._chains[agent] = task
        task.add_done_callback(lambda t: self._chains.pop(agent, None) if self._chains.get(agent) is t else None)

    async def settle(self) -> None:
        """Wait for the changes under way (tests, shutdown)."""
        while self._chains:
            await asyncio.gather(*list(self._chains.values()), return_exceptions=True)

    @staticmethod
    def _agent(e: dict[str, Any]) -> str | None:
        return extension_of(e.get("Interface") or e.get("DestChannel"))

    @staticmethod
    def _call(e: dict[str, Any]) -> str | None:
        return e.get("Linkedid") or e.get("Uniqueid")

    # ---- app_queue -------------------------------------------------------------------------------
    def on_AgentCalled(self, e: dict[str, Any]) -> None:
        agent, call, queue = self._agent(e), self._call(e), e.get("Queue")
        if agent:
            self._then(agent, lambda: self.agents.transition(agent, AgentState.ringing, call_id=call, queue=queue))

    def on_AgentConnect(self, e: dict[str, Any]) -> None:
        agent, call, queue = self._agent(e), self._call(e), e.get("Queue")
        if agent:
            self._then(agent, lambda: self.agents.transition(agent, AgentState.on_call, call_id=call, queue=queue))

    def on_AgentRingNoAnswer(self, e: dict[str, Any]) -> None:
        """app_queue already paused the agent in every queue (``autopause = all``); the pause gets its reason
        and the state change is recorded. The call goes on to the next agent (or, from an agent's own queue,
        to the queue)."""
        agent, queue = self._agent(e), e.get("Queue") or ""
        if not agent:
            return
        self.no_answer_pauses += 1
        reason = self.rules.ring_no_answer_pause
        log.info("ring-no-answer: agent paused", agent=agent, queue=queue, call=self._call(e))
        self._then(agent, lambda: self._pause(agent, reason, AgentState.paused))

    def on_AgentComplete(self, e: dict[str, Any]) -> None:
        agent, call, queue = self._agent(e), self._call(e), e.get("Queue") or ""
        if not agent:
            return
        self.last_call[agent] = (call, queue)
        wrapup = self.rules.queue(queue).wrapup
        if queue.startswith(DIRECT_QUEUE_PREFIX):
            wrapup = max(
                (self.rules.queue(q).wrapup for q in self.rules.queues), key=lambda w: (w.disposition, w.seconds)
            )
        if wrapup.active:
            self._then(agent, lambda: self._pause(agent, WRAPUP_REASON, AgentState.wrap_up))
            if not wrapup.disposition:
                self._arm_wrapup_timer(agent, wrapup.seconds)
        else:
            self._then(agent, lambda: self.agents.transition(agent, AgentState.available))

    def on_QueueCallerLeave(self, e: dict[str, Any]) -> None:
        """The caller left the queue (answered elsewhere, timed out, hung up): an agent still ringing for
        them is free again."""
        call = self._call(e)
        loop = asyncio.get_running_loop()
        for agent, live in list(self.agents.live.items()):
            if live.state == AgentState.ringing and live.call_id == call:
                loop.call_later(LEAVE_GRACE, self._check_still_ringing, agent, call)

    def _check_still_ringing(self, agent: str, call: str | None) -> None:
        live = self.agents.live.get(agent)
        if live is not None and live.state == AgentState.ringing and live.call_id == call:
            self._then(agent, lambda: self._back_if(agent, AgentState.ringing))

    # ---- hold ------------------------------------------------------------------------------------
    def _agent_on(self, e: dict[str, Any]) -> str | None:
        """The agent whose call this hold is about: the agent's own channel, or the call they are on."""
        agent = extension_of(e.get("Channel"))
        if agent in self.agents.live:
            return agent
        call = self._call(e)
        return next((a for a, live in self.agents.live.items() if live.call_id == call and call), None)

    def on_Hold(self, e: dict[str, Any]) -> None:
        agent = self._agent_on(e)
        live = self.agents.live.get(agent or "")
        if agent and live is not None and live.state == AgentState.on_call:
            call, queue = live.call_id, live.queue
            self._then(agent, lambda: self.agents.transition(agent, AgentState.on_hold, call_id=call, queue=queue))

    def on_Unhold(self, e: dict[str, Any]) -> None:
        agent = self._agent_on(e)
        live = self.agents.live.get(agent or "")
        if agent and live is not None and live.state == AgentState.on_hold:
            call, queue = live.call_id, live.queue
            self._then(agent, lambda: self.agents.transition(agent, AgentState.on_call, call_id=call, queue=queue))

    # ---- wrap-up ---------------------------------------------------------------------------------
    async def _pause(self, agent: str, reason: str, state: AgentState) -> None:
        await self.agents.pause(agent, reason, state=state)

    async def _back_if(self, agent: str, state: AgentState) -> None:
        live = self.agents.live.get(agent)
        if live is not None and live.state == state:
            await self.agents.transition(agent, AgentState.available)

    def _arm_wrapup_timer(self, agent: str, seconds: int) -> None:
        old = self._wrapup_timers.pop(agent, None)
        if old is not None:
            old.cancel()
        self._wrapup_timers[agent] = asyncio.get_running_loop().call_later(
            seconds, lambda: self._then(agent, lambda: self._end_wrapup(agent))
        )

    async def _end_wrapup(self, agent: str) -> None:
        self._wrapup_timers.pop(agent, None)
        live = self.agents.live.get(agent)
        if live is not None and live.state == AgentState.wrap_up:
            await self.agents.unpause(agent)

    async def dispose(self, agent: str, code: str, note: str | None, call_id: str | None) -> DispositionRecord:
        """The agent's disposition of their last call: stored (outbox), and their wrap-up ends."""
        live = self.agents.live.get(agent)
        last_call, queue = self.last_call.get(agent, (None, None))
        if call_id is None and last_call is None:
            raise Conflict("no call to dispose of: give its call_id")
        record = DispositionRecord(
            event_id=uuid.uuid4().hex,
            agent=agent,
            call_id=call_id or last_call,
            queue=queue if (call_id is None or call_id == last_call) else None,
            code=code,
            note=note,
            at=self.clock(),
        )
        await self.outbox.put(DISPOSITION_KIND, record)
        timer = self._wrapup_timers.pop(agent, None)
        if timer is not None:
            timer.cancel()
        if live is not None and live.state == AgentState.wrap_up:
            await self.agents.unpause(agent)
        return record
