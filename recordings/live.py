"""The recordings of calls in progress, and the desk's controls over them (the agent on the call only).

app_queue's ``AgentConnect`` tells which agent took which caller (``Channel``: the caller's channel, where
the recording runs; ``Linkedid``: the call). The dialplan starts every recording (``hotline-record``); the
controller's AMI user holds no ``system`` write class, so it never starts one. From the desk the agent can:

- keep an ``on_demand`` recording: the dialplan records those calls provisionally (the file named
  ``<call>.provisional.wav``); pressing "record" marks the file time from which it is kept. When the call
  ends the provisional file is trimmed to start there and kept, or deleted when nobody asked (no row);
- pause and resume it (card numbers, personal details): AMI ``MixMonitorMute`` with ``Direction: both``,
  ``State: 1`` / ``0`` (class ``call``; Asterisk 22's app_mixmonitor mutes the channel's MixMonitor
  audiohooks, so silence is written and the file keeps its time).

Offsets are in file time: MixMonitor's ``b`` option writes only while the caller's channel is bridged, so
the time the caller spends out of a bridge (the desk's hold redirects them to music, a transfer waits in a
queue) is not in the file. ``BridgeEnter`` / ``BridgeLeave`` of the caller's channel start and stop that
clock. Pauses are kept as seconds from the kept recording's start (the first bridge, or the desk's "record"
for an on-demand one) and go into the recording's metadata when the call ends.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from pydantic import BaseModel

from hotline.ami import AmiActionError, AmiUnavailable
from hotline.channels import extension_of
from hotline.errors import Conflict, NotFound, TelephonyUnavailable, first_line
from hotline.logs import bind_call, get_logger
from hotline.routing import DIRECT_QUEUE_PREFIX, ChannelVar
from recordings.policy import MIXMON_ID_VAR, MIXMON_POLICY_VAR, Policy, RecordingsConfig
from recordings.records import Pause

log = get_logger(__name__)

KEEP_ENDED_SECONDS = 3600.0  # an ended call's state waits this long for its CallEnded, then is dropped


class Ami(Protocol):
    async def action(self, name: str, as_list: bool = False, **fields: Any) -> dict[str, Any]: ...


@dataclass
class LiveCall:
    call_id: str
    channel: str  # the caller's channel: the recording runs there
    agent: str | None
    queue: str | None
    bridged_at: float | None  # monotonic: since when the caller's channel is bridged (None: it is not)
    bridged_seconds: float = 0.0  # file time written before ``bridged_at``
    mode: Policy | None = None  # what the dialplan's recording is (None: not known to run)
    kept_from: float | None = None  # file time the kept recording starts at (None: not kept, so far)
    pauses: list[Pause] = field(default_factory=list)
    ended_at: float | None = None

    @property
    def paused(self) -> bool:
        return bool(self.pauses) and self.pauses[-1].end is None

    def file_time(self, now: float) -> float:
        """Seconds MixMonitor has written by ``now`` (bridged audio only, from the first bridge)."""
        running = now - self.bridged_at if self.bridged_at is not None else 0.0
        return self.bridged_seconds + max(0.0, running)

    def unbridged(self, now: float) -> None:
        if self.bridged_at is not None:
            self.bridged_seconds += max(0.0, now - self.bridged_at)
            self.bridged_at = None


@dataclass(frozen=True)
class Finished:
    """What the live state knew of a recording when its call ended."""

    pauses: list[Pause] = field(default_factory=list)  # seconds from the kept recording's start
    kept_from: float | None = None  # file time the desk asked to keep from (None: nobody asked)


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
        if known is None:  # app_queue bridges the caller right after this event
            self.calls[call_id] = LiveCall(call_id, channel, agent, queue, bridged_at=self.clock())
            return
        known.agent, known.channel = agent, channel  # a transfer through a queue: the new agent controls it
        if known.bridged_at is None:
            known.bridged_at = self.clock()
        if queue and not queue.startswith(DIRECT_QUEUE_PREFIX):
            known.queue = queue

    def _caller(self, e: dict[str, Any]) -> LiveCall | None:
        call = self.calls.get(e.get("Linkedid") or "")
        if call is None or call.ended_at is not None or e.get("Channel") != call.channel:
            return None
        return call

    def on_BridgeEnter(self, e: dict[str, Any]) -> None:
        call = self._caller(e)
        if call is not None and call.bridged_at is None:
            call.bridged_at = self.clock()

    def on_BridgeLeave(self, e: dict[str, Any]) -> None:
        call = self._caller(e)
        if call is not None:
            call.unbridged(self.clock())

    def on_Hangup(self, e: dict[str, Any]) -> None:
        call = self.calls.get(e.get("Linkedid") or "")
        if call is not None and e.get("Channel") == call.channel:
            call.unbridged(self.clock())
            call.ended_at = self.clock()
            self._close_pause(call)
        self._prune()

    # ---- the call's end -----------------------------------------------------------------------------------
    def finish(self, call_id: str) -> Finished:
        """The call's pauses and where its kept recording starts in the file."""
        call = self.calls.pop(call_id, None)
        if call is None:
            return Finished()
        self._close_pause(call)
        return Finished(list(call.pauses), call.kept_from)

    def _offset(self, call: LiveCall) -> float:
        """Now, in seconds of the kept recording."""
        now = call.ended_at if call.ended_at is not None else self.clock()
        return round(max(0.0, call.file_time(now) - (call.kept_from or 0.0)), 2)

    def _close_pause(self, call: LiveCall) -> None:
        if call.paused and call.kept_from is not None:
            call.pauses[-1].end = self._offset(call)

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
        """Whether a kept recording runs: the dialplan's, for an ``all`` queue; for an ``on_demand`` one, once
        the desk asked to keep it."""
        if call.mode is None and await self._getvar(call.channel, MIXMON_ID_VAR):
            mode = await self._getvar(call.channel, MIXMON_POLICY_VAR)
            call.mode = Policy.on_demand if mode == Policy.on_demand.value else Policy.all
            if call.mode is Policy.all:
                call.kept_from = 0.0  # bridged audio from the first bridge on
        return call.kept_from is not None

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
        """Keep the call's provisional recording from now on (the file's earlier audio is cut at the end)."""
        call = self.current(agent)
        if await self._recording(call):
            raise Conflict("the call is already being recorded")
        if call.mode is not Policy.on_demand:
            if self.config.policy(await self._queue_of(call)) is Policy.none:
                raise Conflict("calls of this queue are never recorded")
            raise Conflict("the call is not recorded on demand (its queue joined no on-demand recording)")
        call.kept_from = round(call.file_time(self.clock()), 2)
        with bind_call(call.call_id):
            log.info(
                "recording kept from the desk", agent=agent, from_s=call.kept_from, at=datetime.now(UTC).isoformat()
            )
        return await self.state(agent)

    async def pause(self, agent: str) -> RecordingState:
        call = self.current(agent)
        if not await self._recording(call):
            raise Conflict("the call is not being recorded")
        if call.paused:
            raise Conflict("the recording is already paused")
        await self._act("pause the recording", "MixMonitorMute", Channel=call.channel, Direction="both", State=1)
        call.pauses.append(Pause(start=self._offset(call), by=agent))
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
