"""The recordings of calls in progress, and the desk's controls over them (the agent on the call only).

app_queue's ``AgentConnect`` tells which agent took which caller (``Channel``: the caller's channel, where
the recording runs; ``Linkedid``: the call). From the desk the agent can:

- start an ``on_demand`` recording: AMI ``MixMonitor`` on the caller's channel into the file the dialplan
  named (``MONITOR_FILENAME``), options ``b`` (bridged audio only) and ``i(HOTLINE_MIXMON_ID)``, the same
  as the dialplan's own recordings;
- pause and resume it (card numbers, personal details): AMI ``MixMonitorMute`` with ``Direction: both``,
  ``State: 1`` / ``0`` (Asterisk 22, app_mixmonitor: it mutes the MixMonitor audiohooks of the channel,
  so silence is written and the file keeps the call's time; ``MixMonitorID`` is optional). The action
  needs the ``call`` write class; ``MixMonitor`` needs ``system``.

Pauses are kept as offsets in seconds from the recording's start (the first bridge, or the desk's start
for an on-demand recording) and go into the recording's metadata when the call ends.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from pydantic import BaseModel

from hotline.ami import AmiActionError, AmiUnavailable
from hotline.errors import Conflict, NotFound, TelephonyUnavailable, first_line
from hotline.logs import bind_call, get_logger
from hotline.routing import DIRECT_QUEUE_PREFIX, ChannelVar
from recordings.policy import MIXMON_ID_VAR, Policy, RecordingsConfig
from recordings.records import Pause

log = get_logger(__name__)

KEEP_ENDED_SECONDS = 3600.0  # an ended call's state waits this long for its CallEnded, then is dropped


class Ami(Protocol):
    async def action(self, name: str, as_list: bool = False, **fields: Any) -> dict[str, Any]: ...


def extension_of(interface: str | None) -> str | None:
    """``PJSIP/1001`` (or ``Local/1001@…``) → ``1001``."""
    if not interface:
        return None
    tail = interface.split("/", 1)[-1]
    return tail.split("@", 1)[0].split("-", 1)[0] or None


@dataclass
class LiveCall:
    call_id: str
    channel: str  # the caller's channel: the recording runs there
    agent: str | None
    queue: str | None
    connected_at: float  # monotonic: the first bridge with an agent
    origin: float | None = None  # monotonic: the recording's second 0 (None: not known to be recording)
    on_demand: bool = False
    pauses: list[Pause] = field(default_factory=list)
    ended_at: float | None = None

    @property
    def paused(self) -> bool:
        return bool(self.pauses) and self.pauses[-1].end is None


class RecordingState(BaseModel):
    call_id: str
    recording: bool
    paused: bool
    policy: Policy
    pauses: list[Pause]


class LiveRecordings:
    def __init__(self, ami: Ami, config: RecordingsConfig, clock: Callable[[], float] = time.monotonic) -> None:
        self.ami = ami
        self.config = config
        self.clock = clock
        self.calls: dict[str, LiveCall] = {}

    # ---- AMI events ---------------------------------------------------------------------------------------
    def on_AgentConnect(self, e: dict[str, Any]) -> None:
        call_id, channel = e.get("Linkedid") or e.get("Uniqueid"), e.get("Channel")
        if not call_id or not channel:
            return
        agent = extension_of(e.get("Interface") or e.get("DestChannel"))
        queue = e.get("Queue")
        known = self.calls.get(call_id)
        if known is None:
            self.calls[call_id] = LiveCall(call_id, channel, agent, queue, self.clock())
            return
        known.agent, known.channel = agent, channel  # a transfer through a queue: the new agent controls it
        if queue and not queue.startswith(DIRECT_QUEUE_PREFIX):
            known.queue = queue

    def on_Hangup(self, e: dict[str, Any]) -> None:
        call = self.calls.get(e.get("Linkedid") or "")
        if call is not None and e.get("Channel") == call.channel:
            call.ended_at = self.clock()
            self._close_pause(call)
        self._prune()

    # ---- the call's end -----------------------------------------------------------------------------------
    def finish(self, call_id: str) -> tuple[list[Pause], bool]:
        """The call's pauses (offsets from the recording's start) and whether the desk started it."""
        call = self.calls.pop(call_id, None)
        if call is None:
            return [], False
        self._close_pause(call)
        return list(call.pauses), call.on_demand

    def _close_pause(self, call: LiveCall) -> None:
        if call.paused and call.origin is not None:
            call.pauses[-1].end = round(max(0.0, (call.ended_at or self.clock()) - call.origin), 2)

    def _prune(self) -> None:
        now = self.clock()
        for call_id in [c.call_id for c in self.calls.values() if c.ended_at and now - c.ended_at > KEEP_ENDED_SECONDS]:
            self.calls.pop(call_id, None)

    # ---- the desk -----------------------------------------------------------------------------------------
    def current(self, agent: str) -> LiveCall:
        for call in self.calls.values():
            if call.agent == agent and call.ended_at is None:
                return call
        raise NotFound(f"agent {agent} is not on a call")

    async def _act(self, doing: str, action: str, **fields: Any) -> dict[str, Any]:
        try:
            return await self.ami.action(action, **fields)
        except AmiUnavailable as e:
            raise TelephonyUnavailable("the phone system is not reachable right now; try again shortly") from e
        except AmiActionError as e:
            raise TelephonyUnavailable(f"could not {doing}: {first_line(e)}") from e

    async def _getvar(self, channel: str, name: str) -> str:
        reply = await self._act("read the call", "Getvar", Channel=channel, Variable=name)
        value = reply.get("Value") or ""
        return "" if value == "(null)" else value

    async def _queue_of(self, call: LiveCall) -> str | None:
        if call.queue and not call.queue.startswith(DIRECT_QUEUE_PREFIX):
            return call.queue
        return await self._getvar(call.channel, ChannelVar.queue.value) or call.queue

    async def _recording(self, call: LiveCall) -> bool:
        running = bool(await self._getvar(call.channel, MIXMON_ID_VAR))
        if running and call.origin is None:
            call.origin = call.connected_at  # started by the dialplan: bridged audio from the first bridge on
        return running

    async def state(self, agent: str) -> RecordingState:
        call = self.current(agent)
        return RecordingState(
            call_id=call.call_id,
            recording=await self._recording(call),
            paused=call.paused,
            policy=self.config.policy(await self._queue_of(call)),
            pauses=list(call.pauses),
        )

    async def start(self, agent: str) -> RecordingState:
        call = self.current(agent)
        if await self._recording(call):
            raise Conflict("the call is already being recorded")
        policy = self.config.policy(await self._queue_of(call))
        if policy is Policy.none:
            raise Conflict("calls of this queue are never recorded")
        base = await self._getvar(call.channel, "MONITOR_FILENAME")
        if not base:
            raise Conflict("the call has no recording file name (not a hotline call)")
        await self._act(
            "start the recording",
            "MixMonitor",
            Channel=call.channel,
            File=f"{base}.wav",
            Options=f"bi({MIXMON_ID_VAR})",
        )
        call.origin, call.on_demand = self.clock(), True
        with bind_call(call.call_id):
            log.info("recording started from the desk", agent=agent, at=datetime.now(UTC).isoformat())
        return await self.state(agent)

    async def pause(self, agent: str) -> RecordingState:
        call = self.current(agent)
        if not await self._recording(call):
            raise Conflict("the call is not being recorded")
        if call.paused:
            raise Conflict("the recording is already paused")
        await self._act("pause the recording", "MixMonitorMute", Channel=call.channel, Direction="both", State=1)
        assert call.origin is not None
        call.pauses.append(Pause(start=round(max(0.0, self.clock() - call.origin), 2), by=agent))
        with bind_call(call.call_id):
            log.info("recording paused", agent=agent, offset=call.pauses[-1].start)
        return await self.state(agent)

    async def resume(self, agent: str) -> RecordingState:
        call = self.current(agent)
        if not call.paused:
            raise Conflict("the recording is not paused")
        await self._act("resume the recording", "MixMonitorMute", Channel=call.channel, Direction="both", State=0)
        self._close_pause(call)
        with bind_call(call.call_id):
            log.info("recording resumed", agent=agent, offset=call.pauses[-1].end)
        return await self.state(agent)
