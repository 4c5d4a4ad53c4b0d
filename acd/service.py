"""Agent states and queue membership. The database holds the desired state; Asterisk's app_queue is
made to match it over AMI on every change and on every (re)connection.

Changes to one agent's membership are serialised by a lock per agent: a reconcile running while the
agent logs in waits for the log-in and then reads the fresh state, so it can never remove an agent who
just joined (nor re-add one who just left).
"""

from __future__ import annotations

import asyncio
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from acd.errors import UnknownPauseReason
from acd.events import AGENT_STATE_RECORD, AgentStateChanged, AgentStateRecord
from acd.models import HELD_BACK, Agent, AgentState
from acd.queues import Queues
from acd.rules import RoutingRules
from acd.schemas import AgentView
from hotline.ami import AmiActionError, AmiClient, AmiUnavailable
from hotline.bus import EventBus
from hotline.db import Database
from hotline.errors import Conflict, DatabaseUnavailable, NotFound, TelephonyUnavailable
from hotline.logs import get_logger
from hotline.outbox import Outbox
from hotline.routing import DIRECT_QUEUE_PREFIX, direct_queue

log = get_logger(__name__)

STATE_KIND = AGENT_STATE_RECORD
READ_TIMEOUT = 3.0  # a frozen database must not hold a desk action longer than this


_SET_STATE = text(
    "UPDATE agents SET state = CAST(:state AS agent_state), pause_reason = left(:reason, 64),"
    " state_since = :at WHERE extension = :ext AND state_since <= :at"
)
_SET_QUEUES = text("UPDATE agents SET queues = CAST(:queues AS varchar(80)[]) WHERE extension = :ext")
_LOG_STATE = text(
    "INSERT INTO agent_state_log (agent_id, state, reason, at, event_id)"
    " SELECT id, CAST(:state AS agent_state), left(:reason, 64), :at, :event_id FROM agents"
    " WHERE extension = :ext ON CONFLICT (event_id) DO NOTHING"
)


async def store_agent_states(session: AsyncSession, records: list[AgentStateRecord]) -> None:
    """In order: the agent's row takes the change unless it already holds a newer one; the log gets the change
    once (its event id is unique). Each statement runs once for the whole batch (executemany keeps the order)."""
    params = [
        {"ext": r.extension, "state": r.state, "reason": r.reason, "at": r.at, "event_id": r.event_id} for r in records
    ]
    await session.execute(_SET_STATE, params)
    queues = [{"ext": r.extension, "queues": r.queues} for r in records if r.set_queues]
    if queues:
        await session.execute(_SET_QUEUES, queues)
    await session.execute(_LOG_STATE, params)


WRAPUP_REASON = "wrap-up"  # the pause reason that holds an agent in after-call work
# AMI device states (QueueMember Status) that mean the agent's phone is busy or ringing
RINGING_STATUS = frozenset({"6", "7"})
BUSY_STATUS = frozenset({"2", "3", "8"})


@dataclass
class Live:
    """What the controller knows of an agent right now (memory: the router asks it on every call)."""

    state: AgentState
    reason: str | None
    since: datetime
    call_id: str | None = None  # the call ringing or connected
    queue: str | None = None  # its queue


class AgentService:
    """Agents' states and their membership of every queue (multi-queue log-in, penalties from skills)."""

    def __init__(
        self,
        db: Database,
        ami: AmiClient,
        bus: EventBus,
        queues: Queues,
        rules: RoutingRules,
        outbox: Outbox,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.db = db
        self.ami = ami
        self.bus = bus
        self.catalogue = queues
        self.rules = rules
        self.clock = clock
        self.queue = queues.default  # the queue a supervisor's scope is checked against
        self._locks: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)
        self.outbox = outbox
        self._cache: dict[str, Agent] = {}  # last agents read, for reads while the database is away
        self._states: dict[str, AgentStateRecord] = {}  # the last state set here, per agent
        self.live: dict[str, Live] = {}
        outbox.register(STATE_KIND, AgentStateRecord, store_agent_states)

    def lock(self, extension: str) -> asyncio.Lock:
        """Held while the agent's queue membership changes."""
        return self._locks[extension]

    # ---- reading ---------------------------------------------------------------------------------
    async def get(self, extension: str) -> Agent:
        """The agent, from the database when it answers, else from the last copy read (with the states set since)."""
        try:
            async with asyncio.timeout(READ_TIMEOUT), self.db.session() as s:
                agent = (await s.execute(select(Agent).where(Agent.extension == extension))).scalar_one_or_none()
        except Exception as e:
            cached = self._cache.get(extension)
            if cached is None:
                raise DatabaseUnavailable("agent records are not reachable right now; try again shortly") from e
            log.warning("agent read from cache: database not answering", agent=extension, error=repr(e))
            return cached
        if agent is None:
            raise NotFound(f"no agent {extension}")
        return self._remember(agent)

    async def all(self) -> list[Agent]:
        try:
            async with asyncio.timeout(READ_TIMEOUT), self.db.session() as s:
                agents = list((await s.execute(select(Agent).order_by(Agent.extension))).scalars())
        except Exception as e:
            if not self._cache:
                raise
            log.warning("agents read from cache: database not answering", error=repr(e))
            return sorted(self._cache.values(), key=lambda a: a.extension)
        return [self._remember(a) for a in agents]

    def restore(self, pending: Iterable[AgentStateRecord]) -> None:
        """States set before a restart that the database does not have yet (still in the outbox): they are newer
        than its rows, so a reconcile must not act on the rows alone (it would put back an agent who logged out)."""
        for record in pending:
            self._states[record.extension] = record

    def _remember(self, agent: Agent) -> Agent:
        """Cache a freshly read agent; a state set here and not yet stored (outbox) is newer than the row's."""
        mine = self._states.get(agent.extension)
        if mine is not None and mine.at >= agent.state_since:
            agent.state, agent.pause_reason, agent.state_since = AgentState(mine.state), mine.reason, mine.at
            if mine.set_queues:
                agent.queues = mine.queues
        self._cache[agent.extension] = agent
        self.live.setdefault(agent.extension, Live(agent.state, agent.pause_reason, agent.state_since))
        return agent

    def known(self, extension: str) -> Agent | None:
        """The agent as last read (no I/O)."""
        return self._cache.get(extension)

    def pool(self, queue: str, max_penalty: int) -> int:
        """How many logged-in agents of ``queue`` have a penalty within ``max_penalty`` (memory only)."""
        count = 0
        for extension, live in self.live.items():
            agent = self._cache.get(extension)
            if live.state == AgentState.logged_out or agent is None:
                continue
            if queue in self.memberships(agent) and self.rules.penalty(extension, queue) <= max_penalty:
                count += 1
        return count

    def is_free(self, extension: str) -> bool:
        """Logged in, not paused, not on a call, not ringing, not in wrap-up (memory only: no I/O)."""
        live = self.live.get(extension)
        return live is not None and live.state == AgentState.available

    @staticmethod
    def view(agent: Agent, desk_connected: bool = False) -> AgentView:
        return AgentView(
            extension=agent.extension,
            name=agent.name,
            state=agent.state.value,
            pause_reason=agent.pause_reason,
            state_since=agent.state_since,
            desk_connected=desk_connected,
            queues=agent.queues,
        )

    # ---- membership ------------------------------------------------------------------------------
    def memberships(self, agent: Agent) -> dict[str, int]:
        """Queue → penalty for a logged-in agent: the queues they chose (all by default), and their own."""
        names = self.catalogue.names()
        chosen = [q for q in (agent.queues or sorted(names)) if q in names]
        wanted = {q: self.rules.penalty(agent.extension, q) for q in chosen}
        wanted[direct_queue(agent.extension)] = 0
        return wanted

    @staticmethod
    @contextmanager
    def _telephony(doing: str, tolerate: str | None = None) -> Iterator[None]:
        """AMI failures as the agent should read them (503); ``tolerate``: a refusal that means "already done"."""
        try:
            yield
        except AmiUnavailable as e:
            raise TelephonyUnavailable("the phone system is not reachable right now; try again shortly") from e
        except AmiActionError as e:
            if tolerate is None or tolerate not in e.message.lower():
                raise TelephonyUnavailable(f"could not {doing}: {e.message}") from e

    async def _add_member(self, agent: Agent, queue: str, penalty: int, paused: bool, reason: str | None) -> None:
        try:
            await self.ami.action(
                "QueueAdd",
                Queue=queue,
                Interface=agent.interface,
                Penalty=str(penalty),
                MemberName=agent.name,
                StateInterface=agent.interface,
                Paused="true" if paused else "false",
                Reason=reason if paused else None,
            )
        except AmiActionError as e:
            if "already" not in e.message.lower():
                raise
            await self.ami.action("QueuePenalty", Interface=agent.interface, Penalty=str(penalty), Queue=queue)
            await self.ami.action(
                "QueuePause",
                Interface=agent.interface,
                Queue=queue,
                Paused="true" if paused else "false",
                Reason=reason if paused else None,
            )

    async def _queue_log(self, queue: str, agent: Agent, event: str, message: str = "") -> None:
        """A queue_log line app_queue does not write for dynamic members (AGENTLOGIN / AGENTLOGOFF): best effort."""
        try:
            await self.ami.action("QueueLog", Queue=queue, Event=event, Interface=agent.name, Message=message or None)
        except (AmiActionError, AmiUnavailable) as e:
            log.warning("queue_log line not written", queue=queue, line=event, error=str(e))

    # ---- the agent's own actions -----------------------------------------------------------------
    async def login(self, extension: str, queues: list[str] | None = None) -> Agent:
        """Join ``queues`` (None: every queue), available; a second log-in changes the queues."""
        unknown = sorted(set(queues or ()) - self.catalogue.names())
        if unknown:
            raise NotFound(f"no such queues: {unknown}")
        async with self.lock(extension):
            agent = await self.get(extension)
            before = set(self.memberships(agent)) if agent.state != AgentState.logged_out else set()
            agent.queues = sorted(set(queues)) if queues else None
            wanted = self.memberships(agent)
            for queue, penalty in wanted.items():
                with self._telephony(f"add you to {queue}"):
                    await self._add_member(agent, queue, penalty, paused=False, reason=None)
                if queue not in before and not queue.startswith(DIRECT_QUEUE_PREFIX):
                    await self._queue_log(queue, agent, "AGENTLOGIN", agent.interface)
            for queue in before - set(wanted):
                with self._telephony(f"remove you from {queue}", tolerate="not there"):
                    await self.ami.action("QueueRemove", Queue=queue, Interface=agent.interface)
                await self._queue_log(queue, agent, "AGENTLOGOFF", agent.interface)
            return await self._set_state(extension, AgentState.available, None, queues=(agent.queues,))

    async def logout(self, extension: str) -> Agent:
        async with self.lock(extension):
            agent = await self.get(extension)
            for queue in self.memberships(agent):
                with self._telephony(f"remove you from {queue}", tolerate="not there"):
                    await self.ami.action("QueueRemove", Queue=queue, Interface=agent.interface)
                if agent.state != AgentState.logged_out and not queue.startswith(DIRECT_QUEUE_PREFIX):
                    await self._queue_log(queue, agent, "AGENTLOGOFF", agent.interface)
            return await self._set_state(extension, AgentState.logged_out, None)

    async def pause(self, extension: str, reason: str, state: AgentState = AgentState.paused) -> Agent:
        """Paused in every queue (app_queue writes the PAUSE lines with the reason)."""
        if state == AgentState.paused and reason not in self.rules.pause_reasons:
            raise UnknownPauseReason(f"unknown pause reason {reason!r}: one of {', '.join(self.rules.pause_reasons)}")
        async with self.lock(extension):
            agent = await self._logged_in(extension)
            with self._telephony("pause you"):
                await self._pause_all(agent, True, reason)
            return await self._set_state(extension, state, reason)

    async def unpause(self, extension: str) -> Agent:
        async with self.lock(extension):
            agent = await self._logged_in(extension)
            with self._telephony("resume your calls"):
                await self._pause_all(agent, False, None)
            return await self._set_state(extension, AgentState.available, None)

    async def _pause_all(self, agent: Agent, paused: bool, reason: str | None) -> None:
        for queue in self.memberships(agent):
            await self.ami.action(
                "QueuePause",
                Interface=agent.interface,
                Queue=queue,
                Paused="true" if paused else "false",
                Reason=reason if paused else None,
            )

    async def _logged_in(self, extension: str) -> Agent:
        agent = self._cache.get(extension) or await self.get(extension)  # memory first: no database on a call's path
        if agent.state == AgentState.logged_out:
            raise Conflict(f"agent {extension} is not logged in to a queue")
        return agent

    # ---- state changes ---------------------------------------------------------------------------
    async def transition(
        self,
        extension: str,
        state: AgentState,
        reason: str | None = None,
        call_id: str | None = None,
        queue: str | None = None,
    ) -> None:
        """A change Asterisk reported (ringing, on call, on hold, …): recorded like a desk action."""
        live = self.live.get(extension)
        if live is not None and live.state == AgentState.logged_out and state != AgentState.logged_out:
            return  # a call to a phone that is not logged in (a direct dial) is not an agent state
        await self._set_state(extension, state, reason)
        live = self.live[extension]
        live.call_id, live.queue = call_id, queue

    async def _set_state(
        self, extension: str, state: AgentState, reason: str | None, queues: tuple[list[str] | None] | None = None
    ) -> Agent:
        """Record a state change (the AMI action is already done): in memory at once, in the database through
        the outbox, so a desk action works while the database is away and its record lands once."""
        agent = self._cache.get(extension) or await self.get(extension)
        changed = agent.state != state or agent.pause_reason != reason
        if changed or queues is not None:
            change = AgentStateRecord(
                event_id=uuid.uuid4().hex,
                extension=extension,
                state=state.value,
                reason=reason,
                at=self.clock(),
                queues=queues[0] if queues else None,
                set_queues=queues is not None,
                changed=changed,
            )
            agent.state, agent.pause_reason = state, reason
            if changed:
                agent.state_since = change.at
            if queues is not None:
                agent.queues = queues[0]
            self._states[extension] = change
            self._cache[extension] = agent
            await self.outbox.put(STATE_KIND, change)
        self.live[extension] = Live(state, reason, agent.state_since)
        log.info("agent state", agent=extension, state=state.value, reason=reason)
        self.bus.publish(
            AgentStateChanged(agent=extension, state=state.value, pause_reason=reason, since=agent.state_since)
        )
        return agent

    # ---- after a (re)connection ------------------------------------------------------------------
    async def reconcile(self) -> None:
        """Make app_queue's members match the agents the database says are logged in, then rebuild each
        agent's live state (ringing, on call, paused, wrap-up) from what Asterisk reports. Each agent is
        handled under its lock with its state read again inside it."""
        try:
            status = await self.ami.action("QueueStatus", as_list=True)
            extensions = [a.extension for a in await self.all()]
        except Exception as e:
            log.warning("agent reconcile skipped", error=repr(e))
            return
        members: dict[str, dict[str, dict[str, Any]]] = defaultdict(dict)  # interface → queue → QueueMember
        for ev in status.get("events", []):
            if ev.get("Event") == "QueueMember":
                interface = ev.get("Location") or ev.get("Interface") or ""
                members[interface][ev.get("Queue") or self.queue] = ev
        known = {f"PJSIP/{ext}" for ext in extensions}
        added = removed = 0
        for extension in extensions:
            async with self.lock(extension):
                try:
                    agent = await self.get(extension)
                    present = members.get(agent.interface, {})
                    wanted = self.memberships(agent) if agent.state != AgentState.logged_out else {}
                    for queue in set(present) - set(wanted):
                        await self.ami.action("QueueRemove", Queue=queue, Interface=agent.interface)
                        removed += 1
                    held = agent.state in HELD_BACK
                    for queue, penalty in wanted.items():
                        if queue not in present:
                            await self._add_member(agent, queue, penalty, paused=held, reason=agent.pause_reason)
                            added += 1
                    if wanted and present:
                        await self._rebuild(agent, present)
                except Exception as e:
                    log.warning("could not reconcile agent", agent=extension, error=repr(e))
        for interface in set(members) - known:
            for queue in members[interface]:
                try:
                    await self.ami.action("QueueRemove", Queue=queue, Interface=interface)
                    removed += 1
                except (AmiActionError, AmiUnavailable) as e:
                    log.warning("could not remove stray queue member", interface=interface, error=str(e))
        log.info("queue members reconciled", agents=len(extensions), added=added, removed=removed)

    async def _rebuild(self, agent: Agent, present: dict[str, dict[str, Any]]) -> None:
        """The agent's live state as Asterisk has it (the controller may have missed the events)."""
        rows = list(present.values())
        paused = next((r for r in rows if r.get("Paused") == "1"), None)
        statuses = {str(r.get("Status")) for r in rows}
        if statuses & RINGING_STATUS:
            state, reason = AgentState.ringing, None
        elif statuses & BUSY_STATUS or any(r.get("InCall") == "1" for r in rows):
            state, reason = AgentState.on_call, None
        elif paused is not None:
            reason = paused.get("PausedReason") or agent.pause_reason or "break"
            state = AgentState.wrap_up if reason == WRAPUP_REASON else AgentState.paused
        else:
            state, reason = AgentState.available, None
        if (state, reason) != (agent.state, agent.pause_reason):
            log.info(
                "agent state rebuilt from Asterisk", agent=agent.extension, state=state.value, was=agent.state.value
            )
            await self._set_state(agent.extension, state, reason)
