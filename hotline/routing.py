"""The routing contract between the IVR and the dialplan, defined once.

The IVR (over FastAGI) leaves its decision in channel variables; the dialplan template
(``asterisk-conf/extensions.conf.j2``) reads the same names from here, sets safe defaults before the
IVR runs (so a dead controller still routes the caller), checks that the queue exists, and gives every
``Queue()`` exit status a route to a person or a message. Nothing here knows a queue's name: the queues
come from the ACD's catalogue, and the IVR validates its menu against it.
"""

from __future__ import annotations

import enum
from datetime import datetime

from pydantic import BaseModel, Field


class ChannelVar(enum.StrEnum):
    """Channel variables the IVR sets and the dialplan (and a restarted controller) reads."""

    queue = "HOTLINE_QUEUE"
    priority = "HOTLINE_PRIORITY"
    action = "HOTLINE_ACTION"
    intent = "HOTLINE_INTENT"
    ivr_path = "HOTLINE_IVR_PATH"
    customer_id = "HOTLINE_CUSTOMER_ID"
    tier = "HOTLINE_TIER"
    voice_option = "HOTLINE_VOICE_OPTION"  # the speech test line's answer (ivr/voice)
    language = "HOTLINE_LANGUAGE"  # the language the caller chose (en, zh)
    waybill = "HOTLINE_WAYBILL"  # the shipment the caller asked about (for the agent's pop)
    work_order_id = "HOTLINE_WORK_ORDER"  # a work order the IVR opened during the call
    survey = "HOTLINE_SURVEY"  # "1": the caller agreed to a satisfaction survey after the agent hangs up
    preferred_agent = "HOTLINE_PREFERRED_AGENT"  # rings first (dedicated or sticky agent), alone, then the queue
    preferred_ring = "HOTLINE_PREFERRED_RING"  # seconds the preferred agent rings
    max_penalty = "HOTLINE_MAX_PENALTY"  # the caller's starting QUEUE_MAX_PENALTY (the queue's rule widens it)
    max_wait = "HOTLINE_MAX_WAIT"  # seconds in queue before the exit
    decided_by = "HOTLINE_DECIDED_BY"  # acd: the ACD's router decided (else the dialplan asks it at queue entry)


class Action(enum.StrEnum):
    """What the dialplan does after the IVR."""

    queue = "queue"  # Queue(${HOTLINE_QUEUE}) with QUEUE_PRIO=${HOTLINE_PRIORITY}
    voicemail = "voicemail"  # the no-agent message, then a voicemail
    hangup = "hangup"  # goodbye (the caller was served by self-service)


# What the dialplan writes before it runs the IVR (after the queue's default): a caller sent back to the IVR keeps
# their channel, and nothing an earlier pass decided may linger. The IVR then writes only what differs from
# these (each write is a round trip to Asterisk; most calls leave most of them as they are).
IVR_PRESETS: dict[ChannelVar, str] = {
    ChannelVar.priority: "0",
    ChannelVar.action: Action.queue.value,
    ChannelVar.intent: "",
    ChannelVar.ivr_path: "",
    ChannelVar.waybill: "",
    ChannelVar.work_order_id: "",
    ChannelVar.survey: "",
    ChannelVar.preferred_agent: "",
    ChannelVar.preferred_ring: "",
    ChannelVar.max_penalty: "",
    ChannelVar.max_wait: "",
    ChannelVar.decided_by: "",
}


class ExitRoute(enum.StrEnum):
    """Where a caller goes when ``Queue()`` returns: never silence."""

    voicemail = "voicemail"  # "nobody can take your call" + voicemail + goodbye
    goodbye = "goodbye"  # the call was served: goodbye and hang up


# Every QUEUESTATUS app_queue can leave (Asterisk 22). The dialplan sends any other value — an empty one,
# say, if Queue() itself failed — to the voicemail route too.
QUEUE_EXITS: dict[str, ExitRoute] = {
    "TIMEOUT": ExitRoute.voicemail,
    "FULL": ExitRoute.voicemail,
    "JOINEMPTY": ExitRoute.voicemail,
    "LEAVEEMPTY": ExitRoute.voicemail,
    "JOINUNAVAIL": ExitRoute.voicemail,
    "LEAVEUNAVAIL": ExitRoute.voicemail,
    "WITHDRAW": ExitRoute.voicemail,
    "CONTINUE": ExitRoute.goodbye,
    "CLOSED": ExitRoute.voicemail,  # not app_queue's: the queue subroutine's, out of the queue's hours
}
UNKNOWN_EXIT = ExitRoute.voicemail


# A preferred agent rings alone first through their own one-member queue (so the ring is an app_queue call:
# screen-pop, recording and queue_log as for any queue call); the ACD renders one per agent.
DIRECT_QUEUE_PREFIX = "direct-"


# the dialplan context a caller waits in while queued (a subroutine of the hotline context): a caller channel
# found there after a restart is a hotline call too
QUEUE_CONTEXT = "hotline-queue"

# the FastAGI script the dialplan runs at queue entry when the IVR did not leave the ACD's own decision
ROUTE_SCRIPT = "route"
# what the dialplan hands that script as its arguments (agi_arg_1…), in this order: no round trip to read them
ROUTE_FACTS = (ChannelVar.queue, ChannelVar.intent, ChannelVar.ivr_path, ChannelVar.customer_id)


def direct_queue(extension: str) -> str:
    return f"{DIRECT_QUEUE_PREFIX}{extension}"


class RoutingDecision(BaseModel):
    """What was decided for one call; ``variables()`` is what the IVR writes into the channel."""

    action: Action = Action.queue
    queue: str = Field(min_length=1, max_length=80, pattern=r"^[A-Za-z0-9_-]+$")
    priority: int = Field(0, ge=0, le=100)
    intent: str = Field("agent", max_length=40)
    ivr_path: str = Field("", max_length=200)
    preferred_agent: str | None = Field(default=None, max_length=16, pattern=r"^[0-9]+$")
    preferred_ring: int = Field(default=0, ge=0, le=120)
    max_penalty: int | None = Field(default=None, ge=0, le=99)
    max_wait: int | None = Field(default=None, ge=1, le=7200)
    decided_by: str = Field(default="ivr", pattern=r"^(ivr|acd)$")  # the router's own decisions say acd
    open: bool = True  # False: the queue is closed now (the IVR may offer a callback at ``opens_at``)
    opens_at: datetime | None = None

    def variables(self) -> dict[ChannelVar, str]:
        """Every variable of the decision, empty when unset, so no earlier value lingers in the channel."""
        return {
            ChannelVar.action: self.action.value,
            ChannelVar.queue: self.queue,
            ChannelVar.priority: str(self.priority),
            ChannelVar.intent: self.intent,
            ChannelVar.ivr_path: self.ivr_path,
            ChannelVar.preferred_agent: self.preferred_agent or "",
            ChannelVar.preferred_ring: str(self.preferred_ring) if self.preferred_agent else "",
            ChannelVar.max_penalty: "" if self.max_penalty is None else str(self.max_penalty),
            ChannelVar.max_wait: "" if self.max_wait is None else str(self.max_wait),
            ChannelVar.decided_by: self.decided_by,
        }


def template_context(default_queue: str) -> dict[str, object]:
    """What the dialplan template needs of the contract."""
    return {
        "var": {v.name: v.value for v in ChannelVar},
        "ivr_presets": {v.value: value for v, value in IVR_PRESETS.items()},
        "action": {a.name: a.value for a in Action},
        "default_queue": default_queue,
        "direct_queue_prefix": DIRECT_QUEUE_PREFIX,
        "route_script": ROUTE_SCRIPT,
        "route_facts": [v.value for v in ROUTE_FACTS],
        "queue_context": QUEUE_CONTEXT,
        "queue_exits": {status: route.value for status, route in QUEUE_EXITS.items()},
        "unknown_exit": UNKNOWN_EXIT.value,
    }
