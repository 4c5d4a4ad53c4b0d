from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import DateTime, Float, ForeignKey, Index, String, func
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
    """One row per inbound call: who called, what the IVR learned, how the queue and the agent served it."""

    __tablename__ = "interactions"
    __table_args__ = (Index("ix_interactions_started_at", "started_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    uniqueid: Mapped[str] = mapped_column(String(64), unique=True)
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
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
