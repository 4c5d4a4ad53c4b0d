"""The typed record of a finished call that the CMS stores: one interaction and its legs.

The call model produces it when a call ends; the CMS stores it through the outbox, so the record is
safe on local disk before any database write is attempted.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field


class LegRecord(BaseModel):
    """One channel of the call: the caller, each agent rung or connected, a transfer or consultation."""

    uniqueid: str
    channel: str | None = None
    role: str  # caller, agent, transfer, consult, outbound, internal
    agent: str | None = None
    started_at: datetime
    answered_at: datetime | None = None
    ended_at: datetime | None = None
    hangup_cause: int | None = None


class CallRecord(BaseModel):
    call_id: str  # Asterisk's linkedid
    caller: str | None = None
    dialed: str | None = None
    customer_id: int | None = None
    ivr_path: str | None = None
    intent: str | None = None
    queue: str | None = None
    priority: int = 0
    agent: str | None = None
    started_at: datetime
    queued_at: datetime | None = None
    answered_at: datetime | None = None
    ended_at: datetime | None = None
    wait_seconds: float | None = None
    talk_seconds: float | None = None
    outcome: str
    legs: list[LegRecord] = Field(default_factory=list)
