"""Agents' desk connections: every open WebSocket of an agent gets that agent's pops and state.

Publishing never waits on a socket: each connection has its own bounded outbox drained by its own
task, so one stalled browser cannot delay another agent's screen-pop. The messages about an agent's
current call (pop, card update, answer) are kept until the call ends or the offer is withdrawn, and
replayed to a desk that (re)connects meanwhile: a browser reloaded while the phone rings still pops.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from typing import Any

from acd.events import AgentStateChanged
from cti.events import AgentOffered, CallAnswered, CallEnded, CallHeld, OfferCancelled, PopUpdated
from hotline.bus import EventBus
from hotline.logs import get_logger

log = get_logger(__name__)

OUTBOX = 100
Message = dict[str, Any]


class AgentHub:
    def __init__(self, bus: EventBus) -> None:
        self.bus = bus
        self.outboxes: dict[str, set[asyncio.Queue[Message]]] = defaultdict(set)
        self.current: dict[str, tuple[str, list[Message]]] = {}  # agent → (call id, messages to replay)

    def subscribe(self) -> None:
        self.bus.subscribe(AgentOffered, self.on_offered)
        self.bus.subscribe(PopUpdated, self.on_pop_updated)
        self.bus.subscribe(OfferCancelled, self.on_offer_cancelled)
        self.bus.subscribe(CallAnswered, self.on_call_answered)
        self.bus.subscribe(CallHeld, self.on_call_held)
        self.bus.subscribe(CallEnded, self.on_call_ended)
        self.bus.subscribe(AgentStateChanged, self.on_agent_state)

    # ---- events → desks ----------------------------------------------------------------------------
    def on_offered(self, e: AgentOffered) -> None:
        message = {"type": "screen_pop", **e.pop.model_dump(mode="json")}
        self.current[e.pop.agent] = (e.pop.call_id, [message])
        self.push(e.pop.agent, message)

    def on_pop_updated(self, e: PopUpdated) -> None:
        self._follow(e.pop.agent, e.pop.call_id, {"type": "pop_update", **e.pop.model_dump(mode="json")})

    def on_call_answered(self, e: CallAnswered) -> None:
        self._follow(e.agent, e.call_id, {"type": "call_answered", "agent": e.agent, "call_id": e.call_id})

    def on_call_held(self, e: CallHeld) -> None:
        self.push(e.agent, {"type": "call_held", "call_id": e.call_id, "held": e.held})

    def on_offer_cancelled(self, e: OfferCancelled) -> None:
        self._forget(e.agent, e.call_id)
        self.push(e.agent, {"type": "pop_cancelled", "agent": e.agent, "call_id": e.call_id, "reason": e.reason})

    def on_call_ended(self, e: CallEnded) -> None:
        record = e.record
        agents = dict.fromkeys(a for a in (record.agent, *(leg.agent for leg in record.legs)) if a)
        for agent in agents:
            self._forget(agent, record.call_id)
            self.push(
                agent,
                {
                    "type": "call_ended",
                    "call_id": record.call_id,
                    "outcome": record.outcome,
                    "talk_seconds": record.talk_seconds,
                },
            )

    def on_agent_state(self, e: AgentStateChanged) -> None:
        self.push(e.agent, {"type": "agent_state", **e.model_dump(mode="json")})

    def _follow(self, agent: str, call_id: str, message: Message) -> None:
        current = self.current.get(agent)
        if current is not None and current[0] == call_id:
            current[1].append(message)
        self.push(agent, message)

    def _forget(self, agent: str, call_id: str) -> None:
        current = self.current.get(agent)
        if current is not None and current[0] == call_id:
            del self.current[agent]

    # ---- connections -------------------------------------------------------------------------------
    def connect(self, agent: str, hello: Message | None = None) -> asyncio.Queue[Message]:
        """A new desk connection: its outbox starts with ``hello`` and what the agent's current call said."""
        outbox: asyncio.Queue[Message] = asyncio.Queue(OUTBOX)
        if hello is not None:
            outbox.put_nowait(hello)
        for message in self.current.get(agent, ("", []))[1]:
            outbox.put_nowait(message)
        self.outboxes[agent].add(outbox)
        return outbox

    def disconnect(self, agent: str, outbox: asyncio.Queue[Message]) -> None:
        self.outboxes[agent].discard(outbox)
        if not self.outboxes[agent]:
            del self.outboxes[agent]

    def connected(self, agent: str) -> int:
        return len(self.outboxes.get(agent, ()))

    def push(self, agent: str | None, message: Message) -> int:
        delivered = 0
        for outbox in self.outboxes.get(agent or "", ()):
            try:
                outbox.put_nowait(message)
                delivered += 1
            except asyncio.QueueFull:
                log.warning("desk connection too slow, message dropped", agent=agent, type=message.get("type"))
        return delivered
