"""Wallboard connections: each viewer sees the queues they supervise (admins: all) and the agents of those
queues, live.

A change is rendered once (each queue's and agent's row), serialised once per distinct message (viewers of
the same queues share it) and queued as text to each viewer who may see it; publishing never waits on a
socket (each viewer has a bounded outbox drained by its own task). A viewer too slow to keep up is marked
stale and gets a whole fresh snapshot once it drains, so it can never show a figure it missed.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from typing import Any

from floor.events import QueueAlertCleared, QueueAlertRaised
from floor.stats import Changes, FloorStats
from hotline.bus import EventBus
from hotline.logs import get_logger

log = get_logger(__name__)

OUTBOX = 500
Message = dict[str, Any]


def dumps(message: Message) -> str:
    return json.dumps(message, separators=(",", ":"))


@dataclass(eq=False)
class Viewer:
    """One open wallboard: ``scope`` is the queues it may see (None: every queue, for admins)."""

    who: str
    scope: frozenset[str] | None
    outbox: asyncio.Queue[str] = field(default_factory=lambda: asyncio.Queue(OUTBOX))
    agents_shown: set[str] = field(default_factory=set)
    stale: bool = False

    def sees_queue(self, queue: str) -> bool:
        return self.scope is None or queue in self.scope

    def sees_agent(self, queues: list[str]) -> bool:
        return self.scope is None or any(q in self.scope for q in queues)


class Wallboard:
    def __init__(self, stats: FloorStats, bus: EventBus) -> None:
        self.stats = stats
        self.bus = bus
        self.viewers: set[Viewer] = set()
        self.pushed = 0

    def subscribe(self) -> None:
        self.bus.subscribe(QueueAlertRaised, self.on_alert)
        self.bus.subscribe(QueueAlertCleared, self.on_alert)

    # ---- connections ------------------------------------------------------------------------------
    def connect(self, who: str, scope: frozenset[str] | None) -> Viewer:
        viewer = Viewer(who, scope)
        viewer.outbox.put_nowait(dumps(self.snapshot(viewer)))
        self.viewers.add(viewer)
        return viewer

    def disconnect(self, viewer: Viewer) -> None:
        self.viewers.discard(viewer)

    def snapshot(self, viewer: Viewer) -> Message:
        """Everything the viewer may see, now."""
        queues = [self.stats.queue_view(q) for q in sorted(self.stats.queues) if viewer.sees_queue(q)]
        agents = [self.stats.agent_view(a) for a in sorted(self.stats.agents)]
        agents = [a for a in agents if viewer.sees_agent(a["queues"])]
        viewer.agents_shown = {a["agent"] for a in agents}
        return {
            "type": "snapshot",
            "scope": sorted(viewer.scope) if viewer.scope is not None else None,
            "queues": queues,
            "agents": agents,
            "at": self.stats.clock().isoformat(),
        }

    # ---- changes → viewers ------------------------------------------------------------------------
    def on_changes(self, changes: Changes) -> None:
        if not self.viewers:
            return
        queues = [self.stats.queue_view(q) for q in sorted(changes.queues)]
        agents = [self.stats.agent_view(a) for a in sorted(changes.agents)]
        at = self.stats.clock().isoformat()
        rendered: dict[tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]], str] = {}
        for viewer in list(self.viewers):
            mine_q = [q for q in queues if viewer.sees_queue(q["queue"])]
            mine_a: list[Message] = []
            gone: list[str] = []
            for a in agents:
                if viewer.sees_agent(a["queues"]):
                    mine_a.append(a)
                    viewer.agents_shown.add(a["agent"])
                elif a["agent"] in viewer.agents_shown:
                    viewer.agents_shown.discard(a["agent"])
                    gone.append(a["agent"])
            if not (mine_q or mine_a or gone):
                continue
            key = (tuple(q["queue"] for q in mine_q), tuple(a["agent"] for a in mine_a), tuple(gone))
            text = rendered.get(key)
            if text is None:
                text = rendered[key] = dumps(
                    {"type": "update", "queues": mine_q, "agents": mine_a, "gone": gone, "at": at}
                )
            self._push(viewer, text)

    def on_alert(self, e: QueueAlertRaised | QueueAlertCleared) -> None:
        message = dumps({"type": "alert", "raised": isinstance(e, QueueAlertRaised), **e.model_dump(mode="json")})
        for viewer in list(self.viewers):
            if viewer.sees_queue(e.queue):
                self._push(viewer, message)

    def _push(self, viewer: Viewer, message: str) -> None:
        if viewer.stale:
            return  # a whole snapshot follows once its outbox drains
        try:
            viewer.outbox.put_nowait(message)
            self.pushed += 1
        except asyncio.QueueFull:
            viewer.stale = True
            log.warning("wallboard too slow, a snapshot will follow", viewer=viewer.who)

    async def next_message(self, viewer: Viewer) -> str:
        """What the viewer's socket sends next (a fresh snapshot once a stale viewer drained its outbox)."""
        if viewer.stale and viewer.outbox.empty():
            viewer.stale = False
            return dumps(self.snapshot(viewer))
        return await viewer.outbox.get()
