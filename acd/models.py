from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import DateTime, Enum, ForeignKey, String, func
from sqlalchemy.orm import Mapped, mapped_column

from hotline.auth.models import User
from hotline.db import Base


class AgentState(enum.StrEnum):
    logged_out = "logged_out"
    available = "available"
    paused = "paused"


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
