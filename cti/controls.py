"""The desk's call controls: hold and resume, blind and attended transfer (to a queue, an agent or an
outside number), hang up — each an AMI action on the agent's own call, found in the live call model.

- Hold: ``Redirect`` of the caller to ``hotline-desk,hold`` (music on hold) with the agent's channel
  (``ExtraChannel``) to ``hotline-desk,held`` (silence); resume: ``Bridge`` puts them back together. The
  caller's recording (MixMonitor, on the caller's channel) goes on throughout.
- Blind transfer: ``BlindTransfer`` of the agent's channel sends the caller to ``hotline-desk,<target>``;
  the agent's leg ends. Attended: ``Atxfer`` (the bridge's ``atxfer`` feature, allowed by Queue()'s ``t``)
  calls the target from the agent's channel while the caller hears music; "complete" hangs the agent's
  channel up (Asterisk then joins the caller and the target), "cancel" hangs the consultation up.
- Targets, as DTMF digits (Atxfer types them into the call): ``*2<n>`` the n-th queue (Queue() again:
  app_queue pops the next agent), ``*1<ext>`` an agent (the dialplan raises ``HotlineTransferOffer`` first,
  so the call model pops the card at that agent while the phone rings), ``*3<digits>`` an outside number
  (out the way a callback reaches its customer: ``callbacks.dial`` of acd/routing.yaml).

The AMI user needs the ``call`` write class for Redirect, Bridge, BlindTransfer, Atxfer and Hangup.
"""

from __future__ import annotations

import enum
from typing import Any

from pydantic import BaseModel, Field

from cti.events import CallHeld, LegRole
from cti.model import Call, Leg
from cti.registry import CallRegistry
from hotline.ami import AmiActionError, AmiClient, AmiUnavailable
from hotline.bus import EventBus
from hotline.errors import Conflict, HotlineError, NotFound, TelephonyUnavailable, first_line
from hotline.logs import bind_call, get_logger

log = get_logger(__name__)

DESK_CONTEXT = "hotline-desk"
HOLD_EXTEN = "hold"
HELD_EXTEN = "held"


class TargetKind(enum.StrEnum):
    queue = "queue"
    agent = "agent"
    number = "number"


class TransferMode(enum.StrEnum):
    blind = "blind"
    attended = "attended"


class TransferRequest(BaseModel):
    mode: TransferMode = TransferMode.blind
    kind: TargetKind
    target: str = Field(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9_+-]+$")


class CurrentCall(BaseModel):
    call_id: str
    caller: str | None
    queue: str | None
    held: bool
    consulting: bool  # an attended transfer's consultation is under way


AGENT_PREFIX = "*1"  # *1<extension>
QUEUE_PREFIX = "*2"  # *2<n>: the n-th queue of the catalogue, by name
NUMBER_PREFIX = "*3"  # *3<digits>
# Atxfer types its extension into the call as DTMF (after the atxfer feature code), so every transfer
# target is a string of DTMF digits; '#' ends the typing at once instead of after the digit timeout.
END_OF_DIGITS = "#"


def queue_codes(queues: frozenset[str] | None) -> dict[str, str]:
    """Each queue's transfer extension (``*21``, ``*22``, … in name order)."""
    return {name: f"{QUEUE_PREFIX}{i}" for i, name in enumerate(sorted(queues or ()), start=1)}


def template_context(queues: frozenset[str] | None) -> dict[str, Any]:
    return {
        "desk": {
            "context": DESK_CONTEXT,
            "hold": HOLD_EXTEN,
            "held": HELD_EXTEN,
            "agent_prefix": AGENT_PREFIX,
            "number_prefix": NUMBER_PREFIX,
            "queues": {code: name for name, code in queue_codes(queues).items()},
        }
    }


def extension_for(kind: TargetKind, target: str, queues: frozenset[str] | None) -> str:
    """The ``hotline-desk`` extension a transfer goes to (the target checked for its kind)."""
    if kind is TargetKind.queue:
        code = queue_codes(queues).get(target)
        if code is None:
            raise NotFound(f"no queue {target}")
        return code
    if kind is TargetKind.agent:
        if not target.isdigit():
            raise HotlineError(f"an agent is named by their extension (digits): {target!r} is not one")
        return f"{AGENT_PREFIX}{target}"
    if not target.lstrip("+").isdigit():
        raise HotlineError(f"not a phone number: {target!r}")
    return f"{NUMBER_PREFIX}{target.lstrip('+')}"


class CallControls:
    def __init__(self, registry: CallRegistry, ami: AmiClient, bus: EventBus, queues: frozenset[str] | None) -> None:
        self.registry = registry
        self.ami = ami
        self.bus = bus
        self.queues = queues

    def current(self, agent: str) -> tuple[Call, Leg]:
        """The call the agent is on now, and their leg of it."""
        for call in self.registry.calls.values():
            if call.ended_at is not None:
                continue
            for leg in call.legs.values():
                if (
                    leg.agent == agent
                    and leg.role in (LegRole.agent, LegRole.transfer)
                    and leg.answered_at is not None
                    and leg.ended_at is None
                    and leg.channel
                ):
                    return call, leg
        raise NotFound(f"agent {agent} is not on a call")

    def view(self, agent: str) -> CurrentCall:
        call, leg = self.current(agent)
        return CurrentCall(
            call_id=call.call_id,
            caller=call.caller,
            queue=call.queue,
            held=call.held_by == agent,
            consulting=self._consultation(call, leg) is not None,
        )

    async def _act(self, doing: str, action: str, **fields: Any) -> None:
        try:
            await self.ami.action(action, **fields)
        except AmiUnavailable as e:
            raise TelephonyUnavailable("the phone system is not reachable right now; try again shortly") from e
        except AmiActionError as e:
            raise TelephonyUnavailable(f"could not {doing}: {first_line(e)}") from e

    async def hold(self, agent: str) -> CurrentCall:
        call, leg = self.current(agent)
        if call.held_by:
            raise Conflict("the caller is already on hold")
        await self._act(
            "put the caller on hold",
            "Redirect",
            Channel=call.channel,
            Context=DESK_CONTEXT,
            Exten=HOLD_EXTEN,
            Priority=1,
            ExtraChannel=leg.channel,
            ExtraContext=DESK_CONTEXT,
            ExtraExten=HELD_EXTEN,
            ExtraPriority=1,
        )
        call.held_by = agent
        with bind_call(call.call_id):
            log.info("caller on hold", agent=agent)
        self.bus.publish(CallHeld(call_id=call.call_id, agent=agent, held=True))
        return self.view(agent)

    async def resume(self, agent: str) -> CurrentCall:
        call, leg = self.current(agent)
        if call.held_by != agent:
            raise Conflict("the caller is not on hold")
        await self._act("take the call back", "Bridge", Channel1=call.channel, Channel2=leg.channel, Tone="no")
        call.held_by = None
        self.bus.publish(CallHeld(call_id=call.call_id, agent=agent, held=False))
        return self.view(agent)

    async def transfer(self, agent: str, request: TransferRequest) -> dict[str, Any]:
        call, leg = self.current(agent)
        if call.held_by:
            raise Conflict("take the call back from hold first")
        exten = extension_for(request.kind, request.target, self.queues)
        if request.kind is TargetKind.agent and request.target == agent:
            raise Conflict("that is you")
        if request.mode is TransferMode.blind:
            await self._act(
                "transfer the call", "BlindTransfer", Channel=leg.channel, Context=DESK_CONTEXT, Exten=exten
            )
        else:
            await self._act(
                "start the transfer", "Atxfer", Channel=leg.channel, Context=DESK_CONTEXT, Exten=exten + END_OF_DIGITS
            )
        with bind_call(call.call_id):
            log.info("desk transfer", agent=agent, mode=request.mode.value, to=exten)
        return {"call_id": call.call_id, "mode": request.mode.value, "to": exten}

    def _consultation(self, call: Call, leg: Leg) -> Leg | None:
        """The consultation an attended transfer started: a leg of the call newer than the agent's, still up."""
        for other in call.legs.values():
            if (
                other is not leg
                and other.uniqueid != call.call_id
                and other.ended_at is None
                and other.started_at > (leg.answered_at or leg.started_at)
                and other.channel
            ):
                return other
        return None

    async def complete_transfer(self, agent: str) -> dict[str, Any]:
        """The agent leaves: Asterisk joins the caller and the consulted party."""
        call, leg = self.current(agent)
        if self._consultation(call, leg) is None:
            raise Conflict("no transfer under way")
        await self._act("complete the transfer", "Hangup", Channel=leg.channel)
        return {"call_id": call.call_id}

    async def cancel_transfer(self, agent: str) -> dict[str, Any]:
        call, leg = self.current(agent)
        consult = self._consultation(call, leg)
        if consult is None:
            raise Conflict("no transfer under way")
        await self._act("cancel the transfer", "Hangup", Channel=consult.channel)
        return {"call_id": call.call_id}

    async def hangup(self, agent: str) -> dict[str, Any]:
        call, leg = self.current(agent)
        await self._act("hang up", "Hangup", Channel=leg.channel)
        return {"call_id": call.call_id}
