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
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from pydantic import BaseModel
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from acd.events import AgentStateChanged
from acd.models import Agent, AgentState
from acd.schemas import AgentView
from hotline.ami import AmiActionError, AmiClient, AmiUnavailable
from hotline.bus import EventBus
from hotline.db import Database
from hotline.errors import Conflict, DatabaseUnavailable, NotFound, TelephonyUnavailable
from hotline.logs import get_logger
from hotline.outbox import Outbox

log = get_logger(__name__)

STATE_KIND = "agent_state"
READ_TIMEOUT = 3.0  # a frozen database must not hold a desk action longer than this


class AgentStateRecord(BaseModel):
    """One agent-state change as the outbox keeps it until the database has it."""

    event_id: str
    extension: str
    state: str
    reason: str | None
    at: datetime


async def store_agent_states(session: AsyncSession, records: list[AgentStateRecord]) -> None:
    """In order: the agent's row takes the change unless it already holds a newer one; the log gets the change
    once (its event id is unique)."""
    for r in records:
        params = {"ext": r.extension, "state": r.state, "reason": r.reason, "at": r.at, "event_id": r.event_id}
        await session.execute(
            text(
                "UPDATE agents SET state = CAST(:state AS agent_state), pause_reason = left(:reason, 64),"
                " state_since = :at WHERE extension = :ext AND state_since <= :at"
            ),
            params,
        )
        await session.execute(
            text(
                "INSERT INTO agent_state_log (agent_id, state, reason, at, event_id)"
                " SELECT id, CAST(:state AS agent_state), left(:reason, 64), :at, :event_id FROM agents"
                " WHERE extension = :ext ON CONFLICT (event_id) DO NOTHING"
            ),
            params,
        )


class AgentService:
    def __init__(self, db: Database, ami: AmiClient, bus: EventBus, queue: str, outbox: Outbox) -> None:
        self.db = db
        self.ami = ami
        self.bus = bus
        self.queue = queue
        self._locks: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)
        self.outbox = outbox
        self._cache: dict[str, Agent] = {}  # last agents read, for reads while the database is away
        self._states: dict[str, AgentStateRecord] = {}  # the last state set here, per agent
        outbox.register(STATE_KIND, AgentStateRecord, store_agent_states)

    def lock(self, extension: str) -> asyncio.Lock:
        """Held while the agent's queue membership changes."""
        return self._locks[extension]

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

    def _remember(self, agent: Agent) -> Agent:
        """Cache a freshly read agent; a state set here and not yet stored (outbox) is newer than the row's."""
        mine = self._states.get(agent.extension)
        if mine is not None and mine.at >= agent.state_since:
            agent.state, agent.pause_reason, agent.state_since = AgentState(mine.state), mine.reason, mine.at
        self._cache[agent.extension] = agent
        return agent

    @staticmethod
    def view(agent: Agent, desk_connected: bool = False) -> AgentView:
        return AgentView(
            extension=agent.extension,
            name=agent.name,
            state=agent.state.value,
            pause_reason=agent.pause_reason,
            state_since=agent.state_since,
            desk_connected=desk_connected,
        )

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

    async def _add_member(self, agent: Agent, paused: bool, reason: str | None) -> None:
        try:
            await self.ami.action(
                "QueueAdd",
                Queue=self.queue,
                Interface=agent.interface,
                MemberName=agent.name,
                StateInterface=agent.interface,
                Paused="true" if paused else "false",
                Reason=reason if paused else None,
            )
        except AmiActionError as e:
            if "already" not in e.message.lower():
                raise
            await self.ami.action(
                "QueuePause",
                Interface=agent.interface,
                Queue=self.queue,
                Paused="true" if paused else "false",
                Reason=reason if paused else None,
            )

    async def login(self, extension: str) -> Agent:
        async with self.lock(extension):
            agent = await self.get(extension)
            with self._telephony(f"add you to {self.queue}"):
                await self._add_member(agent, paused=False, reason=None)
            return await self._set_state(extension, AgentState.available, None)

    async def logout(self, extension: str) -> Agent:
        async with self.lock(extension):
            agent = await self.get(extension)
            with self._telephony(f"remove you from {self.queue}", tolerate="not there"):
                await self.ami.action("QueueRemove", Queue=self.queue, Interface=agent.interface)
            return await self._set_state(extension, AgentState.logged_out, None)

    async def pause(self, extension: str, reason: str) -> Agent:
        async with self.lock(extension):
            agent = await self._logged_in(extension)
            with self._telephony("pause you"):
                await self.ami.action(
                    "QueuePause", Interface=agent.interface, Queue=self.queue, Paused="true", Reason=reason
                )
            return await self._set_state(extension, AgentState.paused, reason)

    async def unpause(self, extension: str) -> Agent:
        async with self.lock(extension):
            agent = await self._logged_in(extension)
            with self._telephony("resume your calls"):
                await self.ami.action("QueuePause", Interface=agent.interface, Queue=self.queue, Paused="false")
            return await self._set_state(extension, AgentState.available, None)

    async def _logged_in(self, extension: str) -> Agent:
        agent = await self.get(extension)
        if agent.state == AgentState.logged_out:
            raise Conflict(f"agent {extension} is not logged in to a queue")
        return agent

    async def _set_state(self, extension: str, state: AgentState, reason: str | None) -> Agent:
        """Record a state change (the AMI action is already done): in memory at once, in the database through
        the outbox, so a desk action works while the database is away and its record lands once."""
        agent = await self.get(extension)
        if agent.state != state or agent.pause_reason != reason:
            change = AgentStateRecord(
                event_id=uuid.uuid4().hex, extension=extension, state=state.value, reason=reason, at=datetime.now(UTC)
            )
            agent.state, agent.pause_reason, agent.state_since = state, reason, change.at
            self._states[extension] = change
            self._cache[extension] = agent
            await self.outbox.put(STATE_KIND, change)
        log.info("agent state", agent=extension, state=state.value, reason=reason)
        self.bus.publish(
            AgentStateChanged(agent=extension, state=state.value, pause_reason=reason, since=agent.state_since)
        )
        return agent

    async def reconcile(self) -> None:
        """Make app_queue's members match the agents the database says are logged in. Each agent is
        handled under its lock with its state read again inside it."""
        try:
            status = await self.ami.action("QueueStatus", as_list=True, Queue=self.queue)
            extensions = [a.extension for a in await self.all()]
        except Exception as e:
            log.warning("agent reconcile skipped", error=repr(e))
            return
        members = {
            ev.get("Location") or ev.get("Interface")
            for ev in status.get("events", [])
            if ev.get("Event") == "QueueMember"
        }
        known = {f"PJSIP/{ext}": ext for ext in extensions}
        added = removed = 0
        for extension in extensions:
            async with self.lock(extension):
                try:
                    agent = await self.get(extension)
                    if agent.state == AgentState.logged_out:
                        if agent.interface in members:
                            await self.ami.action("QueueRemove", Queue=self.queue, Interface=agent.interface)
                            removed += 1
                        continue
                    await self._add_member(agent, paused=agent.state == AgentState.paused, reason=agent.pause_reason)
                    added += agent.interface not in members
                except Exception as e:
                    log.warning("could not reconcile agent", agent=extension, error=repr(e))
        for interface in members - set(known):
            if interface:
                try:
                    await self.ami.action("QueueRemove", Queue=self.queue, Interface=interface)
                    removed += 1
                except (AmiActionError, AmiUnavailable) as e:
                    log.warning("could not remove stray queue member", interface=interface, error=str(e))
        log.info("queue members reconciled", queue=self.queue, agents=len(extensions), added=added, removed=removed)
