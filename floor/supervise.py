"""Listen, whisper, barge and forced agent states: a supervisor's hands on the floor, every use audited.

To join an agent's call the controller has Asterisk call the supervisor's own phone (AMI ``Originate``,
which needs the AMI user's ``originate`` write class) into the ``hotline-supervise`` context, where the
answered phone runs ``ChanSpy`` on the agent's channel (``PJSIP/<ext>-``: the trailing dash keeps 1001
from matching 10010) with ``q`` (no beep or name), ``E`` (end when the agent's channel hangs up), ``S``
(end when there is nothing to spy on) and ``w`` (whisper: the agent alone hears the supervisor) or ``B``
(barge: both parties hear). The audit row is written first: an action that cannot be audited is refused.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import select, update

from acd.interface import AgentControl
from floor.errors import AgentNotVisible, NoSupervisorPhone, NotOnCall, UnknownAgent
from floor.events import AgentSupervised
from floor.models import SupervisionEntry, SupervisorPhone
from floor.schemas import SpyMode
from floor.stats import FloorStats
from hotline.ami import AmiActionError, AmiClient, AmiUnavailable
from hotline.auth import Principal
from hotline.bus import EventBus
from hotline.db import Database
from hotline.errors import DatabaseUnavailable, TelephonyUnavailable, first_line
from hotline.logs import get_logger

log = get_logger(__name__)

SPY_CONTEXT = "hotline-supervise"
SPY_TARGET = "HOTLINE_SPY_TARGET"  # the channel variable naming the agent's channel prefix
CHANSPY_OPTIONS = {SpyMode.listen: "qES", SpyMode.whisper: "qESw", SpyMode.barge: "qESB"}
RING_TIMEOUT_MS = 30000
# OriginateResponse's Reason: Asterisk's control frame that ended the attempt
ORIGINATE_REASONS = {
    "0": "no such phone or not registered",
    "1": "hung up",
    "3": "no answer",
    "5": "busy",
    "8": "congestion",
}


def template_context() -> dict[str, Any]:
    """What the dialplan template needs to render the supervise context."""
    return {
        "supervise": {
            "context": SPY_CONTEXT,
            "var": SPY_TARGET,
            "modes": {mode.value: options for mode, options in CHANSPY_OPTIONS.items()},
        }
    }


class Supervision:
    def __init__(
        self,
        db: Database,
        ami: AmiClient,
        bus: EventBus,
        stats: FloorStats,
        control: Callable[[], AgentControl],
        clock: Callable[[], datetime],
    ) -> None:
        self.db = db
        self.ami = ami
        self.bus = bus
        self.stats = stats
        self.control = control
        self.clock = clock
        self.ringing: dict[str, int] = {}  # the originated channel's id → its audit entry
        self._tasks: set[asyncio.Task[None]] = set()

    def on_OriginateResponse(self, e: dict[str, Any]) -> None:
        """Whether the supervisor's phone answered (the Originate is asynchronous): into the audit entry."""
        entry = self.ringing.pop(e.get("Uniqueid") or "", None)
        if entry is None:
            return
        result = (
            "answered"
            if e.get("Response") == "Success"
            else f"not answered ({ORIGINATE_REASONS.get(e.get('Reason') or '', e.get('Reason'))})"
        )
        task = asyncio.ensure_future(self._result(entry, result))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def check_visible(self, me: Principal, agent: str) -> None:
        if agent not in self.stats.agents:
            raise UnknownAgent(f"no agent {agent} on the floor")
        if me.is_admin:
            return
        if not self.stats.queues_of(agent) & me.supervised_queues:
            raise AgentNotVisible(f"agent {agent} is in none of the queues you supervise")

    async def phone_of(self, me: Principal) -> str:
        async with self.db.session() as s:
            phone = (
                await s.execute(select(SupervisorPhone.extension).where(SupervisorPhone.user_id == me.user_id))
            ).scalar_one_or_none()
        if phone is None:
            raise NoSupervisorPhone(f"{me.username} has no supervisor phone to ring")
        return phone

    async def _audit(self, **fields: Any) -> int:
        try:
            async with self.db.session() as s:
                entry = SupervisionEntry(**fields)
                s.add(entry)
                await s.commit()
                return entry.id
        except Exception as e:
            raise DatabaseUnavailable("the supervision log cannot be written: action refused") from e

    async def _result(self, entry_id: int, result: str) -> None:
        try:
            async with self.db.session() as s:
                await s.execute(update(SupervisionEntry).where(SupervisionEntry.id == entry_id).values(result=result))
                await s.commit()
        except Exception as e:
            log.warning("supervision result not stored", entry=entry_id, result=result, error=first_line(e))

    async def spy(self, me: Principal, agent: str, mode: SpyMode) -> int:
        """Ring the supervisor's phone into the agent's call; returns the audit entry's id."""
        self.check_visible(me, agent)
        call_id = self.stats.agents[agent].on_call
        if call_id is None:
            raise NotOnCall(f"agent {agent} is not on a call")
        phone = await self.phone_of(me)
        entry = await self._audit(
            supervisor=me.username,
            agent=agent,
            action=mode.value,
            call_id=call_id,
            phone=phone,
            at=self.clock(),
            result="ringing",  # until the phone answers or not (OriginateResponse)
        )
        channel_id = f"hotline-spy-{entry}"
        self.ringing[channel_id] = entry
        try:
            await self.ami.action(
                "Originate",
                ChannelId=channel_id,
                Channel=f"PJSIP/{phone}",
                Context=SPY_CONTEXT,
                Exten=mode.value,
                Priority=1,
                Variable=f"{SPY_TARGET}=PJSIP/{agent}",
                CallerID=f'"{mode.value} {agent}" <{agent}>',
                Timeout=RING_TIMEOUT_MS,
                Async="true",
            )
        except (AmiUnavailable, AmiActionError) as e:
            self.ringing.pop(channel_id, None)
            await self._result(entry, f"failed: {first_line(e)}")
            raise TelephonyUnavailable(f"could not ring your phone: {first_line(e)}") from e
        log.info("supervisor joins call", supervisor=me.username, agent=agent, mode=mode.value, call=call_id)
        self.bus.publish(
            AgentSupervised(supervisor=me.username, agent=agent, action=mode.value, call_id=call_id, at=self.clock())
        )
        return entry

    async def force(self, me: Principal, agent: str, action: str, reason: str | None = None) -> int:
        """Pause (with a reason) or log the agent out, through the ACD."""
        self.check_visible(me, agent)
        entry = await self._audit(supervisor=me.username, agent=agent, action=action, detail=reason, at=self.clock())
        try:
            if action == "pause":
                await self.control().pause(agent, reason or "supervisor")
            else:
                await self.control().logout(agent)
        except Exception as e:
            await self._result(entry, f"failed: {first_line(e)}")
            raise
        await self._result(entry, "done")
        self.bus.publish(AgentSupervised(supervisor=me.username, agent=agent, action=action, at=self.clock()))
        return entry

    async def log(self, limit: int) -> list[SupervisionEntry]:
        async with self.db.session() as s:
            rows = await s.execute(select(SupervisionEntry).order_by(SupervisionEntry.id.desc()).limit(limit))
            return list(rows.scalars())
