from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import DateTime, Float, ForeignKey, Index, Integer, String, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from hotline.db import Base


class QueueEvent(Base):
    """Every queue event Asterisk reports (the queue_log equivalent)."""

    __tablename__ = "queue_events"
    __table_args__ = (Index("ix_queue_events_uniqueid", "uniqueid"), Index("ix_queue_events_at", "at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    event: Mapped[str] = mapped_column(String(40))
    queue: Mapped[str | None] = mapped_column(String(80))
    uniqueid: Mapped[str | None] = mapped_column(String(64))
    agent: Mapped[str | None] = mapped_column(String(80))
    data: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)


class Interaction(Base):
    """One row per call (keyed by Asterisk's linkedid): who called, what the IVR learned, how the queue
    and the agents served it. ``source`` says who wrote it: the controller's live call model, or a
    back-fill from Asterisk's own records for a call the controller did not witness."""

    __tablename__ = "interactions"
    __table_args__ = (Index("ix_interactions_started_at", "started_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[str] = mapped_column(String(64), unique=True)  # Asterisk's linkedid
    caller: Mapped[str | None] = mapped_column(String(64))
    dialed: Mapped[str | None] = mapped_column(String(64))  # the number called (the hotline line)
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id", ondelete="SET NULL"))
    ivr_path: Mapped[str | None] = mapped_column(String(200))
    intent: Mapped[str | None] = mapped_column(String(40))
    queue: Mapped[str | None] = mapped_column(String(80))
    agent: Mapped[str | None] = mapped_column(String(16))
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    queued_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    answered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    wait_seconds: Mapped[float | None] = mapped_column(Float)
    talk_seconds: Mapped[float | None] = mapped_column(Float)
    outcome: Mapped[str] = mapped_column(String(32))
    priority: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    source: Mapped[str] = mapped_column(String(16), default="live", server_default="live")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class CallLeg(Base):
    """One channel of a call: the caller, each agent rung or connected, transfers and consultations."""

    __tablename__ = "call_legs"
    __table_args__ = (Index("ix_call_legs_call_id", "call_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[str] = mapped_column(String(64))  # the call's linkedid
    uniqueid: Mapped[str] = mapped_column(String(64), unique=True)
    channel: Mapped[str | None] = mapped_column(String(120))
    role: Mapped[str] = mapped_column(String(16))  # caller, agent, transfer, consult, outbound, internal
    agent: Mapped[str | None] = mapped_column(String(16))
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    answered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    hangup_cause: Mapped[int | None] = mapped_column(Integer)
