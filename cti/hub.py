"""Agents' desk connections: every open WebSocket of an agent gets that agent's pops and state.

Publishing never waits on a socket: each connection has its own bounded outbox drained by its own
task, so one stalled browser cannot delay another agent's screen-pop.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from typing import Any

from hotline.bus import EventBus
from hotline.logs import get_logger

log = get_logger(__name__)

OUTBOX = 100


class AgentHub:
    def __init__(self, bus: EventBus) -> None:
        self.bus = bus
        self.outboxes: dict[str, set[asyncio.Queue[dict[str, Any]]]] = defaultdict(set)

    def subscribe(self) -> None:
        self.bus.subscribe("cti.screen_pop", lambda _, e: self.push(e["agent"], e["pop"]))
        self.bus.subscribe("cti.pop_cancelled", lambda _, e: self.push(e["agent"], {"type": "pop_cancelled", **e}))
        self.bus.subscribe("cti.call_answered", lambda _, e: self.push(e["agent"], {"type": "call_answered", **e}))
        self.bus.subscribe("agent.state", lambda _, e: self.push(e["agent"], {"type": "agent_state", **e}))
        self.bus.subscribe("call.ended", self._on_call_ended)

    def _on_call_ended(self, _: str, e: dict[str, Any]) -> None:
        call = e["call"]
        if call.agent:
            self.push(
                call.agent,
                {
                    "type": "call_ended",
                    "call_id": call.uniqueid,
                    "outcome": call.final_outcome(),
                    "talk_seconds": call.talk_seconds,
                },
            )

    def connect(self, agent: str) -> asyncio.Queue[dict[str, Any]]:
        outbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue(OUTBOX)
        self.outboxes[agent].add(outbox)
        return outbox

    def disconnect(self, agent: str, outbox: asyncio.Queue[dict[str, Any]]) -> None:
        self.outboxes[agent].discard(outbox)
        if not self.outboxes[agent]:
            del self.outboxes[agent]

    def connected(self, agent: str) -> int:
        return len(self.outboxes.get(agent, ()))

    def push(self, agent: str | None, message: dict[str, Any]) -> int:
        delivered = 0
        for outbox in self.outboxes.get(agent or "", ()):
            try:
                outbox.put_nowait(message)
                delivered += 1
            except asyncio.QueueFull:
                log.warning("desk connection too slow, message dropped", agent=agent, type=message.get("type"))
        return delivered
