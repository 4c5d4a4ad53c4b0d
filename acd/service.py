"""Agent states and queue membership. The database holds the desired state; Asterisk's app_queue is
made to match it over AMI on every change and on every (re)connection.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from sqlalchemy import select

from acd.models import Agent, AgentState, AgentStateLog
from acd.schemas import AgentView
from hotline.ami import AmiActionError, AmiClient, AmiUnavailable
from hotline.bus import EventBus
from hotline.db import Database
from hotline.errors import Conflict, NotFound, TelephonyUnavailable
from hotline.logs import get_logger

log = get_logger(__name__)


class AgentService:
    def __init__(self, db: Database, ami: AmiClient, bus: EventBus, queue: str) -> None:
        self.db = db
        self.ami = ami
        self.bus = bus
        self.queue = queue

    def subscribe(self) -> None:
        self.bus.subscribe("ami.connected", lambda *_: self.reconcile())

    async def get(self, extension: str) -> Agent:
        async with self.db.session() as s:
            agent = (await s.execute(select(Agent).where(Agent.extension == extension))).scalar_one_or_none()
        if agent is None:
            raise NotFound(f"no agent {extension}")
        return agent

    async def all(self) -> list[Agent]:
        async with self.db.session() as s:
            return list((await s.execute(select(Agent).order_by(Agent.extension))).scalars())

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
        agent = await self.get(extension)
        with self._telephony(f"add you to {self.queue}"):
            await self._add_member(agent, paused=False, reason=None)
        return await self._set_state(extension, AgentState.available, None)

    async def logout(self, extension: str) -> Agent:
        agent = await self.get(extension)
        with self._telephony(f"remove you from {self.queue}", tolerate="not there"):
            await self.ami.action("QueueRemove", Queue=self.queue, Interface=agent.interface)
        return await self._set_state(extension, AgentState.logged_out, None)

    async def pause(self, extension: str, reason: str) -> Agent:
        agent = await self._logged_in(extension)
        with self._telephony("pause you"):
            await self.ami.action(
                "QueuePause", Interface=agent.interface, Queue=self.queue, Paused="true", Reason=reason
            )
        return await self._set_state(extension, AgentState.paused, reason)

    async def unpause(self, extension: str) -> Agent:
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
        async with self.db.session() as s:
            agent = (await s.execute(select(Agent).where(Agent.extension == extension))).scalar_one()
            changed = agent.state != state or agent.pause_reason != reason
            agent.state, agent.pause_reason = state, reason
            if changed:
                agent.state_since = datetime.now(UTC)
                s.add(AgentStateLog(agent_id=agent.id, state=state, reason=reason))
            await s.commit()
        log.info("agent state", agent=extension, state=state.value, reason=reason)
        self.bus.publish(
            "agent.state",
            {"agent": extension, "state": state.value, "pause_reason": reason, "since": agent.state_since.isoformat()},
        )
        return agent

    async def reconcile(self) -> None:
        """Make app_queue's members match the agents the database says are logged in."""
        try:
            agents = await self.all()
            status = await self.ami.action("QueueStatus", as_list=True, Queue=self.queue)
        except Exception as e:
            log.warning("agent reconcile skipped", error=repr(e))
            return
        members = {
            ev.get("Location") or ev.get("Interface")
            for ev in status.get("events", [])
            if ev.get("Event") == "QueueMember"
        }
        wanted = {a.interface: a for a in agents if a.state != AgentState.logged_out}
        added = removed = 0
        for interface, agent in wanted.items():
            try:
                await self._add_member(agent, paused=agent.state == AgentState.paused, reason=agent.pause_reason)
                added += interface not in members
            except (AmiActionError, AmiUnavailable) as e:
                log.warning("could not restore queue member", agent=agent.extension, error=str(e))
        for interface in members - set(wanted):
            if interface:
                try:
                    await self.ami.action("QueueRemove", Queue=self.queue, Interface=interface)
                    removed += 1
                except (AmiActionError, AmiUnavailable) as e:
                    log.warning("could not remove stray queue member", interface=interface, error=str(e))
        log.info("queue members reconciled", queue=self.queue, logged_in=len(wanted), added=added, removed=removed)
