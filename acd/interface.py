"""The ACD's service interfaces for other packages: the queues, the routing decision, callback requests."""

from __future__ import annotations

from datetime import datetime
from typing import Literal, Protocol

from pydantic import BaseModel, Field

from crm_bridge.schemas import CustomerCard
from hotline.plugins import ServiceKey
from hotline.routing import RoutingDecision


class QueueCatalog(Protocol):
    @property
    def default(self) -> str:
        """The queue a caller goes to when nothing else was decided."""
        ...

    def names(self) -> frozenset[str]: ...


QUEUES: ServiceKey[QueueCatalog] = ServiceKey("acd.queues")


class RoutingRequest(BaseModel):
    """What the IVR knows when it hands a caller to a person."""

    call_id: str  # the caller channel's uniqueid (the call's linkedid)
    caller: str | None = None
    customer: CustomerCard | None = None
    intent: str = "agent"  # tracking, pickup, complaint, claim, station, agent, …
    queue: str | None = None  # the queue the menu names (None: the ACD chooses by intent)
    language: str | None = None  # the language the caller chose in the IVR
    waybill: str | None = None
    work_order_id: int | None = None  # opened by the IVR for this call (a complaint, a claim)
    ivr_path: str = ""


class Router(Protocol):
    async def decide(self, request: RoutingRequest) -> RoutingDecision:
        """Queue, priority (and whatever else the dialplan needs) for this caller, with the reasons stored.
        Must answer quickly and never raise for a known queue; the IVR bounds the wait and falls back to the
        menu's own queue and tier priority."""
        ...


ROUTER: ServiceKey[Router] = ServiceKey("acd.router")


class CallbackRequest(BaseModel):
    """A caller asks to be called back instead of waiting (out of hours, a long wait, a queue exit)."""

    number: str = Field(min_length=3, max_length=32)
    customer_id: int | None = None
    queue: str
    reason: Literal["closed", "long_wait", "queue_exit", "ivr"] = "ivr"
    call_id: str | None = None  # the call it was asked on
    language: str | None = None
    intent: str | None = None
    not_before: datetime | None = None  # e.g. the next opening


class CallbackView(CallbackRequest):
    id: int
    state: str  # pending, dialling, done, failed, cancelled
    requested_at: datetime


class Callbacks(Protocol):
    async def request(self, request: CallbackRequest) -> CallbackView:
        """Store the request durably (it survives a restart) and schedule it."""
        ...


CALLBACKS: ServiceKey[Callbacks] = ServiceKey("acd.callbacks")


class AgentControl(Protocol):
    """A supervisor's hand on an agent's state (the same path as the agent's own desk buttons)."""

    async def pause(self, extension: str, reason: str) -> object: ...

    async def logout(self, extension: str) -> object: ...


AGENT_CONTROL: ServiceKey[AgentControl] = ServiceKey("acd.agent_control")


class QueueLoad(BaseModel):
    """A queue's load now, from Asterisk's live figures (AMI QueueSummary)."""

    queue: str
    waiting: int  # callers waiting in the queue
    longest_wait_s: float  # the longest of their waits
    agents_logged_in: int
    agents_available: int  # logged in, not paused, not on a call
    expected_wait_s: float | None  # what a caller joining now should expect; None: nobody logged in to answer


class QueueLoads(Protocol):
    async def load(self, queue: str) -> QueueLoad:
        """The queue's load now (one round trip to Asterisk). Raises when Asterisk cannot tell (not
        connected, no answer, an unknown queue): the caller decides what an unknown load means."""
        ...


QUEUE_LOAD: ServiceKey[QueueLoads] = ServiceKey("acd.queue_load")
