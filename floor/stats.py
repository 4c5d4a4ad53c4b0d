"""Live queue and agent statistics, in memory: what a wallboard shows, computed from facts as they come.

Pure and synchronous (no bus, no AMI, no database): ``floor.feed`` turns events into the calls below and
``floor.board`` turns the changes they report into wallboard messages. Times come from the facts themselves
or from the clock given, so tests replay sequences at will. "Today" is the local day of ``FloorConfig.timezone``;
the day's counters start again at its midnight.

Definitions (the ones most call centres use):
- offered: callers who joined the queue today; waiting: in it now;
- answered: reached an agent; within the service level if their wait was at most the queue's
  ``service_level_seconds``; lost: left the queue without an agent (hung up, timed out to voicemail);
- service level = answered within the threshold / (answered + lost); ASA = mean wait of the answered;
  abandon rate = lost / (answered + lost);
- per agent: calls handled today (each time they answered a call, transfers included) and AHT = their
  talk time on those calls / calls handled.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from floor.config import FloorConfig

Clock = Callable[[], datetime]
# the states an agent's own activity decides (the ACD's states beyond these, e.g. wrap-up, are shown as sent)
ACD_IDLE_STATES = frozenset({"logged_out", "available", "paused"})
# ordered for display: the wallboard's "agents by state"
STATES = ("available", "ringing", "on_call", "on_hold", "wrap_up", "paused", "logged_out")


@dataclass
class QueueDay:
    offered: int = 0
    answered: int = 0
    answered_in_sl: int = 0
    lost: int = 0
    wait_answered: float = 0.0  # seconds, summed over the answered (for the ASA)


@dataclass
class QueueLive:
    name: str
    day: QueueDay = field(default_factory=QueueDay)
    waiting: dict[str, datetime] = field(default_factory=dict)  # call id → joined at
    members: set[str] = field(default_factory=set)  # agents' extensions


@dataclass
class AgentLive:
    extension: str
    acd_state: str = "logged_out"
    pause_reason: str | None = None
    acd_since: datetime | None = None
    ringing: str | None = None  # the call id ringing at the agent's phone
    on_call: str | None = None  # the call id the agent is talking on
    activity_since: datetime | None = None
    held: bool = False  # the caller is on hold from the agent's desk
    handled: int = 0
    talk_seconds: float = 0.0

    @property
    def state(self) -> str:
        if self.acd_state not in ACD_IDLE_STATES:
            return self.acd_state  # the ACD knows better (wrap-up, on hold, …)
        if self.on_call:
            return "on_hold" if self.held else "on_call"
        if self.ringing:
            return "ringing"
        return self.acd_state

    @property
    def since(self) -> datetime | None:
        if self.acd_state in ACD_IDLE_STATES and (self.on_call or self.ringing):
            return self.activity_since
        return self.acd_since


@dataclass
class Changes:
    """What one fact changed: the wallboard re-sends these rows."""

    queues: set[str] = field(default_factory=set)
    agents: set[str] = field(default_factory=set)

    def __bool__(self) -> bool:
        return bool(self.queues or self.agents)

    def merge(self, other: Changes) -> None:
        self.queues |= other.queues
        self.agents |= other.agents


@dataclass(frozen=True)
class EndedCall:
    """A call as the statistics need it, from the live ``CallEnded`` or today's stored rows."""

    call_id: str
    queue: str | None
    queued: bool
    answered: bool
    wait_seconds: float | None
    handled_by: tuple[tuple[str, float], ...] = ()  # (agent, talk seconds) for each agent who answered it


@dataclass(frozen=True)
class AlertChange:
    queue: str
    kind: str  # longest_wait, service_level
    raised: bool  # False: cleared
    value: float
    threshold: float


def _ratio(part: float, whole: float) -> float | None:
    return round(part / whole, 4) if whole else None


class FloorStats:
    def __init__(self, config: FloorConfig, clock: Clock) -> None:
        self.config = config
        self.clock = clock
        self.queues: dict[str, QueueLive] = {}
        self.agents: dict[str, AgentLive] = {}
        self.day: date = self._today()
        self._offered: set[str] = set()  # call ids counted today, per fact: each call counts once
        self._answered: set[str] = set()
        self._ended: set[str] = set()
        self.alerts: dict[tuple[str, str], float] = {}  # (queue, kind) → the value that raised it

    # ---- the day ----------------------------------------------------------------------------------
    def _today(self) -> date:
        return self.clock().astimezone(self.config.zone).date()

    def roll_day(self) -> Changes:
        """At local midnight the day's counters start again (waiting callers and states stay)."""
        today = self._today()
        if today == self.day:
            return Changes()
        self.day = today
        self._offered.clear()
        self._answered.clear()
        self._ended.clear()
        for q in self.queues.values():
            q.day = QueueDay()
        for a in self.agents.values():
            a.handled, a.talk_seconds = 0, 0.0
        return Changes(set(self.queues), set(self.agents))

    def is_today(self, t: datetime) -> bool:
        return t.astimezone(self.config.zone).date() == self.day

    # ---- rows -------------------------------------------------------------------------------------
    def queue(self, name: str) -> QueueLive:
        q = self.queues.get(name)
        if q is None:
            q = self.queues[name] = QueueLive(name)
        return q

    def agent(self, extension: str) -> AgentLive:
        a = self.agents.get(extension)
        if a is None:
            a = self.agents[extension] = AgentLive(extension)
        return a

    def queues_of(self, extension: str) -> set[str]:
        return {q.name for q in self.queues.values() if extension in q.members}

    # ---- facts ------------------------------------------------------------------------------------
    def call_queued(self, call_id: str, queue: str, at: datetime) -> Changes:
        changes = self.roll_day()
        q = self.queue(queue)
        q.waiting[call_id] = at
        if call_id not in self._offered:
            self._offered.add(call_id)
            q.day.offered += 1
        changes.queues.add(queue)
        return changes

    def call_answered(self, call_id: str, agent: str, queue: str | None, wait_seconds: float | None) -> Changes:
        changes = self.roll_day()
        now = self.clock()
        for q in self.queues.values():  # it left whichever queue it waited in
            joined = q.waiting.pop(call_id, None)
            if joined is not None:
                queue = queue or q.name
                wait_seconds = wait_seconds if wait_seconds is not None else (now - joined).total_seconds()
                changes.queues.add(q.name)
        if queue and call_id not in self._answered and call_id not in self._ended:
            self._answered.add(call_id)
            self._count_answer(self.queue(queue), wait_seconds)
            changes.queues.add(queue)
        a = self.agent(agent)
        a.on_call, a.ringing, a.activity_since, a.held = call_id, None, now, False
        changes.agents.add(agent)
        return changes

    def _count_answer(self, q: QueueLive, wait_seconds: float | None) -> None:
        wait = max(0.0, wait_seconds or 0.0)
        q.day.answered += 1
        q.day.wait_answered += wait
        if wait <= self.config.thresholds(q.name).service_level_seconds:
            q.day.answered_in_sl += 1

    def offered_to(self, agent: str, call_id: str) -> Changes:
        a = self.agent(agent)
        if a.on_call:
            return Changes()
        a.ringing, a.activity_since = call_id, self.clock()
        return Changes(agents={agent})

    def offer_cancelled(self, agent: str, call_id: str) -> Changes:
        a = self.agent(agent)
        if a.ringing != call_id:
            return Changes()
        a.ringing = None
        return Changes(agents={agent})

    def call_held(self, agent: str, call_id: str, held: bool) -> Changes:
        a = self.agent(agent)
        if a.on_call != call_id or a.held == held:
            return Changes()
        a.held, a.activity_since = held, self.clock()
        return Changes(queues=self.queues_of(agent), agents={agent})

    def call_transferred(self, call_id: str, agent: str | None) -> Changes:
        """The transferring agent is done with the call (the one who takes it shows on their answer)."""
        a = self.agents.get(agent or "")
        if a is None or a.on_call != call_id:
            return Changes()
        a.on_call, a.held = None, False
        return Changes(agents={a.extension})

    def call_ended(self, call: EndedCall, ended_at: datetime | None = None) -> Changes:
        changes = self.roll_day()
        for q in self.queues.values():
            if q.waiting.pop(call.call_id, None) is not None:
                changes.queues.add(q.name)
        for a in self.agents.values():
            if call.call_id in (a.on_call, a.ringing):
                a.held = a.held and a.on_call != call.call_id
                a.on_call = None if a.on_call == call.call_id else a.on_call
                a.ringing = None if a.ringing == call.call_id else a.ringing
                changes.agents.add(a.extension)
        if ended_at is not None and not self.is_today(ended_at):
            return changes
        if call.call_id in self._ended:
            return changes
        self._ended.add(call.call_id)
        if call.queue and call.queued:
            q = self.queue(call.queue)
            if call.call_id not in self._offered:  # we did not see it join (it joined before we started)
                self._offered.add(call.call_id)
                q.day.offered += 1
            if call.answered and call.call_id not in self._answered:
                self._answered.add(call.call_id)
                self._count_answer(q, call.wait_seconds)
            elif not call.answered:
                q.day.lost += 1
            changes.queues.add(call.queue)
        for agent, talk in call.handled_by:
            a = self.agent(agent)
            a.handled += 1
            a.talk_seconds += max(0.0, talk)
            changes.agents.add(agent)
        return changes

    def agent_state(self, agent: str, state: str, reason: str | None, since: datetime) -> Changes:
        a = self.agent(agent)
        a.acd_state, a.pause_reason, a.acd_since = state, reason, since
        if state == "logged_out":
            a.ringing = None
        return Changes(queues=self.queues_of(agent), agents={agent})

    def member_added(self, queue: str, agent: str) -> Changes:
        self.queue(queue).members.add(agent)
        self.agent(agent)
        return Changes(queues={queue}, agents={agent})

    def member_removed(self, queue: str, agent: str) -> Changes:
        q = self.queues.get(queue)
        if q is None or agent not in q.members:
            return Changes()
        q.members.discard(agent)
        return Changes(queues={queue}, agents={agent})

    # ---- rebuilding at start ----------------------------------------------------------------------
    def load_day(self, calls: Iterable[tuple[EndedCall, datetime]]) -> Changes:
        """Today's stored calls (each with when it ended), counted once each."""
        changes = Changes()
        for call, ended_at in calls:
            changes.merge(self.call_ended(call, ended_at))
        return changes

    def load_asterisk(self, members: dict[str, set[str]], waiting: dict[str, tuple[str, float]]) -> Changes:
        """app_queue's view now: each queue's members, and the callers waiting (call id → queue, seconds waited)."""
        changes = Changes()
        now = self.clock()
        for name, extensions in members.items():
            q = self.queue(name)
            changes.agents |= q.members ^ extensions
            q.members = set(extensions)
            for ext in extensions:
                self.agent(ext)
            changes.queues.add(name)
        for q in self.queues.values():  # callers we think wait but Asterisk no longer has: gone meanwhile
            for call_id in [c for c in q.waiting if c not in waiting]:
                del q.waiting[call_id]
                changes.queues.add(q.name)
        for call_id, (queue, waited) in waiting.items():
            if call_id in self.queue(queue).waiting:
                continue
            joined = datetime.fromtimestamp(now.timestamp() - waited, now.tzinfo)
            changes.merge(self.call_queued(call_id, queue, joined))
        return changes

    # ---- figures ----------------------------------------------------------------------------------
    def longest_wait(self, q: QueueLive, now: datetime) -> float:
        return max(((now - t).total_seconds() for t in q.waiting.values()), default=0.0)

    def service_level(self, q: QueueLive) -> float | None:
        return _ratio(q.day.answered_in_sl, q.day.answered + q.day.lost)

    def queue_view(self, name: str) -> dict[str, Any]:
        now = self.clock()
        q = self.queue(name)
        t = self.config.thresholds(name)
        by_state = dict.fromkeys(STATES, 0)
        for ext in q.members:
            state = self.agent(ext).state
            by_state[state] = by_state.get(state, 0) + 1
        finished = q.day.answered + q.day.lost
        return {
            "queue": name,
            "waiting": len(q.waiting),
            "oldest_since": min(q.waiting.values()).isoformat() if q.waiting else None,
            "longest_wait": round(self.longest_wait(q, now), 1),
            "offered": q.day.offered,
            "answered": q.day.answered,
            "answered_in_sl": q.day.answered_in_sl,
            "lost": q.day.lost,
            "service_level": self.service_level(q),
            "service_level_seconds": t.service_level_seconds,
            "service_level_target": t.service_level_target,
            "max_longest_wait": t.max_longest_wait,
            "asa": round(q.day.wait_answered / q.day.answered, 1) if q.day.answered else None,
            "abandon_rate": _ratio(q.day.lost, finished),
            "agents": by_state,
            "alerts": sorted(kind for (queue, kind) in self.alerts if queue == name),
        }

    def agent_view(self, extension: str) -> dict[str, Any]:
        a = self.agent(extension)
        since = a.since
        return {
            "agent": extension,
            "state": a.state,
            "pause_reason": a.pause_reason,
            "since": since.isoformat() if since else None,
            "call_id": a.on_call or a.ringing,
            "queues": sorted(self.queues_of(extension)),
            "handled": a.handled,
            "aht": round(a.talk_seconds / a.handled, 1) if a.handled else None,
        }

    # ---- alerts -----------------------------------------------------------------------------------
    def check_alerts(self) -> list[AlertChange]:
        """Thresholds crossed (either way) since the last check."""
        now = self.clock()
        found: list[AlertChange] = []
        for q in self.queues.values():
            t = self.config.thresholds(q.name)
            longest = self.longest_wait(q, now)
            found += self._alert(q.name, "longest_wait", longest > t.max_longest_wait, longest, t.max_longest_wait)
            sl = self.service_level(q)
            enough = q.day.answered + q.day.lost >= t.min_calls
            low = sl is not None and enough and sl < t.service_level_target
            found += self._alert(q.name, "service_level", low, sl or 0.0, t.service_level_target)
        return found

    def _alert(self, queue: str, kind: str, on: bool, value: float, threshold: float) -> list[AlertChange]:
        key = (queue, kind)
        if on and key not in self.alerts:
            self.alerts[key] = value
            return [AlertChange(queue, kind, True, round(value, 4), threshold)]
        if not on and key in self.alerts:
            del self.alerts[key]
            return [AlertChange(queue, kind, False, round(value, 4), threshold)]
        return []
