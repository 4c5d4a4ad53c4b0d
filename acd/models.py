from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import DateTime, Enum, ForeignKey, Integer, String, Text, func
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from hotline.auth.models import User
from hotline.db import Base


class AgentState(enum.StrEnum):
    logged_out = "logged_out"
    available = "available"
    paused = "paused"  # with a reason code (break, lunch, training, outbound, no_answer, …)
    ringing = "ringing"  # a queue call is offered
    on_call = "on_call"
    on_hold = "on_hold"
    wrap_up = "wrap_up"  # after-call work: paused in app_queue until the disposition (or the queue's time)


# the states in which the agent is in their queues (app_queue members)
LOGGED_IN = frozenset(set(AgentState) - {AgentState.logged_out})
# the states in which app_queue must not offer them a call (paused in every queue)
HELD_BACK = frozenset({AgentState.paused, AgentState.wrap_up})


class Agent(Base):
    """A person's telephone side. Their desk log-in is the core's user ``user_id``, whose username is
    the extension (so pops, interactions and recordings, keyed by extension, belong to that user)."""

    __tablename__ = "agents"

    id: Mapped[int] = mapped_column(primary_key=True)
    extension: Mapped[str] = mapped_column(String(16), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey(User.id), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    sip_password: Mapped[str] = mapped_column(String(64))  # phone registration (rendered into pjsip.conf)
    state: Mapped[AgentState] = mapped_column(Enum(AgentState, name="agent_state"), default=AgentState.logged_out)
    pause_reason: Mapped[str | None] = mapped_column(String(64))
    state_since: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    # the queues the agent logged in to (None: every queue of the catalogue)
    queues: Mapped[list[str] | None] = mapped_column(ARRAY(String(80)))

    @property
    def interface(self) -> str:
        return f"PJSIP/{self.extension}"


class AgentStateLog(Base):
    """One row per state change: the raw material of agent-state intervals in reports."""

    __tablename__ = "agent_state_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id", ondelete="CASCADE"), index=True)
    state: Mapped[AgentState] = mapped_column(Enum(AgentState, name="agent_state"))
    reason: Mapped[str | None] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    # the change's own id: the outbox may deliver it twice, the log keeps it once
    event_id: Mapped[str | None] = mapped_column(String(36), unique=True)


class RoutingDecisionRow(Base):
    """A routing decision with its reasons (tier, dedicated, sticky, skill, overflow, hours), one per decision."""

    __tablename__ = "routing_decisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    decision_id: Mapped[str] = mapped_column(String(32), unique=True)
    call_id: Mapped[str] = mapped_column(String(64), index=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    customer_id: Mapped[int | None] = mapped_column(Integer)
    tier: Mapped[str | None] = mapped_column(String(20))
    intent: Mapped[str | None] = mapped_column(String(40))
    action: Mapped[str] = mapped_column(String(16))
    queue: Mapped[str] = mapped_column(String(80))
    priority: Mapped[int] = mapped_column(Integer)
    preferred_agent: Mapped[str | None] = mapped_column(String(16))
    preferred_reason: Mapped[str | None] = mapped_column(String(16))  # dedicated, sticky
    max_penalty: Mapped[int | None] = mapped_column(Integer)
    reasons: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)


class CallbackRow(Base):
    """A caller's request to be called back, keeping their place: ``place_at`` is when they joined the line."""

    __tablename__ = "callbacks"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(32))
    customer_id: Mapped[int | None] = mapped_column(Integer, index=True)
    queue: Mapped[str] = mapped_column(String(80))
    reason: Mapped[str] = mapped_column(String(16))
    call_id: Mapped[str | None] = mapped_column(String(64))
    language: Mapped[str | None] = mapped_column(String(16))
    intent: Mapped[str | None] = mapped_column(String(40))
    priority: Mapped[int] = mapped_column(Integer, default=0)
    place_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    requested_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    not_before: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    state: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    agent: Mapped[str | None] = mapped_column(String(16))
    last_error: Mapped[str | None] = mapped_column(String(200))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Disposition(Base):
    """How an agent closed a call's after-call work (ends their wrap-up)."""

    __tablename__ = "dispositions"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[str] = mapped_column(String(36), unique=True)
    agent: Mapped[str] = mapped_column(String(16), index=True)
    call_id: Mapped[str | None] = mapped_column(String(64), index=True)
    queue: Mapped[str | None] = mapped_column(String(80))
    code: Mapped[str] = mapped_column(String(40))
    note: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
