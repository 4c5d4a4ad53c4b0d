from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, DateTime, Float, ForeignKey, Index, Integer, String, func
from sqlalchemy.orm import Mapped, mapped_column

from hotline.db import Base


class QueueLogLine(Base):
    """One line of Asterisk's own queue_log (``time|callid|queue|agent|event|data1|…|data5``), kept as
    Asterisk wrote it, with where it was read from. Ingested exactly once: the file position advances in
    the same transaction (``queue_log_offsets``)."""

    __tablename__ = "queue_log"
    __table_args__ = (Index("ix_queue_log_callid", "callid"), Index("ix_queue_log_time", "time"))

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    time: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    callid: Mapped[str | None] = mapped_column(String(64))
    queue: Mapped[str | None] = mapped_column(String(80))
    agent: Mapped[str | None] = mapped_column(String(80))
    event: Mapped[str] = mapped_column(String(40))
    data1: Mapped[str | None] = mapped_column(String(255))
    data2: Mapped[str | None] = mapped_column(String(255))
    data3: Mapped[str | None] = mapped_column(String(255))
    data4: Mapped[str | None] = mapped_column(String(255))
    data5: Mapped[str | None] = mapped_column(String(1000))  # the fifth field and any beyond, '|'-joined
    src_inode: Mapped[int] = mapped_column(BigInteger)
    src_offset: Mapped[int] = mapped_column(BigInteger)  # byte offset of the line in that file


class QueueLogOffset(Base):
    """How far each queue_log file has been ingested (the file's inode and the byte after the last line)."""

    __tablename__ = "queue_log_offsets"

    name: Mapped[str] = mapped_column(String(200), primary_key=True)
    inode: Mapped[int] = mapped_column(BigInteger)
    offset: Mapped[int] = mapped_column(BigInteger)
    head: Mapped[str | None] = mapped_column(String(40))  # sha1 of the file's first line
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class QueueLogReject(Base):
    """A queue_log line that could not be read as one (kept aside, never blocking the lines after it)."""

    __tablename__ = "queue_log_rejects"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    src_inode: Mapped[int] = mapped_column(BigInteger)
    src_offset: Mapped[int] = mapped_column(BigInteger)
    line: Mapped[str] = mapped_column(String(2000))
    reason: Mapped[str] = mapped_column(String(200))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class Interaction(Base):
    """One row per call (keyed by Asterisk's linkedid): who called, what the IVR learned, how the queue
    and the agents served it. ``source`` says who wrote it: the controller's live call model, or a
    back-fill from Asterisk's own records for a call the controller did not witness."""

    __tablename__ = "interactions"
    __table_args__ = (
        Index("ix_interactions_started_at", "started_at"),
        Index("ix_interactions_customer_id_started_at", "customer_id", "started_at"),  # a caller's recent contacts
    )

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
    self_service: Mapped[bool | None] = mapped_column(Boolean)  # served by the IVR alone (None: no IVR record)
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
