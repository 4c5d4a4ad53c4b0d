"""The routing contract between the IVR and the dialplan, defined once.

The IVR (over FastAGI) leaves its decision in channel variables; the dialplan template
(``asterisk-conf/extensions.conf.j2``) reads the same names from here, sets safe defaults before the
IVR runs (so a dead controller still routes the caller), checks that the queue exists, and gives every
``Queue()`` exit status a route to a person or a message. Nothing here knows a queue's name: the queues
come from the ACD's catalogue, and the IVR validates its menu against it.
"""

from __future__ import annotations

import enum

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


class Action(enum.StrEnum):
    """What the dialplan does after the IVR."""

    queue = "queue"  # Queue(${HOTLINE_QUEUE}) with QUEUE_PRIO=${HOTLINE_PRIORITY}
    voicemail = "voicemail"  # the no-agent message, then a voicemail
    hangup = "hangup"  # goodbye (the caller was served by self-service)


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
}
UNKNOWN_EXIT = ExitRoute.voicemail


class RoutingDecision(BaseModel):
    """What the IVR decided for one call; ``variables()`` is what it writes into the channel."""

    action: Action = Action.queue
    queue: str = Field(min_length=1, max_length=80, pattern=r"^[A-Za-z0-9_-]+$")
    priority: int = Field(0, ge=0, le=100)
    intent: str = Field("agent", max_length=40)
    ivr_path: str = Field("", max_length=200)

    def variables(self) -> dict[ChannelVar, str]:
        return {
            ChannelVar.action: self.action.value,
            ChannelVar.queue: self.queue,
            ChannelVar.priority: str(self.priority),
            ChannelVar.intent: self.intent,
            ChannelVar.ivr_path: self.ivr_path,
        }


def template_context(default_queue: str) -> dict[str, object]:
    """What the dialplan template needs of the contract."""
    return {
        "var": {v.name: v.value for v in ChannelVar},
        "action": {a.name: a.value for a in Action},
        "default_queue": default_queue,
        "queue_exits": {status: route.value for status, route in QUEUE_EXITS.items()},
        "unknown_exit": UNKNOWN_EXIT.value,
    }
