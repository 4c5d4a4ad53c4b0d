from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    func,
    text,
)
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
        Index("ix_interactions_created_at", "created_at"),  # the reports' facts: calls stored lately
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


# ---- reports: per-call facts, agent-state intervals, surveys, and their 15-minute aggregates -------------
# (definitions: cms/facts.py, cms/metrics.py, docs/METRICS.md)


def _count() -> Mapped[int]:
    return mapped_column(Integer, default=0, server_default="0")


def _seconds() -> Mapped[float]:
    return mapped_column(Float, default=0.0, server_default="0")


# the sums an aggregate row keeps (cms.metrics.Totals' names), by interval and by day alike
class QueueSums:
    calls: Mapped[int] = _count()
    offered: Mapped[int] = _count()
    answered: Mapped[int] = _count()
    abandoned: Mapped[int] = _count()
    short_abandoned: Mapped[int] = _count()
    timed_out: Mapped[int] = _count()
    answered_in_sl: Mapped[int] = _count()
    abandoned_in_sl: Mapped[int] = _count()
    wait_sum: Mapped[float] = _seconds()
    wait_max: Mapped[float] = _seconds()
    abandon_wait_sum: Mapped[float] = _seconds()
    talk_sum: Mapped[float] = _seconds()
    hold_sum: Mapped[float] = _seconds()
    acw_sum: Mapped[float] = _seconds()
    ring_sum: Mapped[float] = _seconds()
    transfers: Mapped[int] = _count()
    ivr_known: Mapped[int] = _count()
    ivr_contained: Mapped[int] = _count()
    fcr_eligible: Mapped[int] = _count()
    fcr_repeated: Mapped[int] = _count()
    csat_sum: Mapped[int] = _count()
    csat_count: Mapped[int] = _count()


class AgentSums:
    answered: Mapped[int] = _count()
    answered_in_sl: Mapped[int] = _count()
    wait_sum: Mapped[float] = _seconds()
    wait_max: Mapped[float] = _seconds()
    talk_sum: Mapped[float] = _seconds()
    hold_sum: Mapped[float] = _seconds()
    acw_sum: Mapped[float] = _seconds()
    ring_sum: Mapped[float] = _seconds()
    transfers: Mapped[int] = _count()
    fcr_eligible: Mapped[int] = _count()
    fcr_repeated: Mapped[int] = _count()
    csat_sum: Mapped[int] = _count()
    csat_count: Mapped[int] = _count()


class StateSums:
    logged_in_seconds: Mapped[float] = _seconds()
    available_seconds: Mapped[float] = _seconds()
    handling_seconds: Mapped[float] = _seconds()
    paused_seconds: Mapped[float] = _seconds()
    wrap_seconds: Mapped[float] = _seconds()


class CallFact(Base):
    """One row per call: what the reports count (derived by cms.facts.derive, rebuilt at will)."""

    __tablename__ = "cms_call_facts"
    __table_args__ = (
        Index("ix_cms_call_facts_bucket_queue", "bucket", "queue"),
        Index("ix_cms_call_facts_bucket_agent", "bucket", "agent"),
        Index("ix_cms_call_facts_contact", "contact_key", "started_at"),
        Index("ix_cms_call_facts_agent_ended", "agent", "ended_at"),
    )

    call_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    bucket: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    queue: Mapped[str] = mapped_column(String(80), default="", server_default="")
    agent: Mapped[str] = mapped_column(String(16), default="", server_default="")
    contact_key: Mapped[str | None] = mapped_column(String(100))
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    queued_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    answered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    offered: Mapped[bool] = mapped_column(Boolean, default=False, server_default="false")
    answered: Mapped[bool] = mapped_column(Boolean, default=False, server_default="false")
    abandoned: Mapped[bool] = mapped_column(Boolean, default=False, server_default="false")
    short_abandon: Mapped[bool] = mapped_column(Boolean, default=False, server_default="false")
    timed_out: Mapped[bool] = mapped_column(Boolean, default=False, server_default="false")
    in_sl: Mapped[bool] = mapped_column(Boolean, default=False, server_default="false")
    wait_s: Mapped[float | None] = mapped_column(Float)
    ring_s: Mapped[float | None] = mapped_column(Float)
    ring_attempts: Mapped[int] = _count()
    talk_s: Mapped[float | None] = mapped_column(Float)
    hold_s: Mapped[float | None] = mapped_column(Float)
    acw_s: Mapped[float | None] = mapped_column(Float)
    acw_pending: Mapped[bool] = mapped_column(Boolean, default=False, server_default="false")
    abandon_position: Mapped[int | None] = mapped_column(Integer)
    abandon_entry_position: Mapped[int | None] = mapped_column(Integer)
    transfers: Mapped[int] = _count()
    ivr_known: Mapped[bool] = mapped_column(Boolean, default=False, server_default="false")
    ivr_contained: Mapped[bool] = mapped_column(Boolean, default=False, server_default="false")
    repeated: Mapped[bool] = mapped_column(Boolean, default=False, server_default="false")  # FCR: called again
    csat: Mapped[int | None] = mapped_column(SmallInteger)
    source: Mapped[str] = mapped_column(String(16), default="live", server_default="live")
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class AgentStateSpan(Base):
    """An agent's state from ``started_at`` until ``ended_at`` (None: still in it), from acd's
    ``AgentStateChanged``: the CMS's own record, never read from acd's tables."""

    __tablename__ = "cms_agent_states"
    __table_args__ = (
        Index("uq_cms_agent_states_agent_started", "agent", "started_at", unique=True),
        Index("ix_cms_agent_states_open", "agent", postgresql_where=text("ended_at IS NULL")),
        Index("ix_cms_agent_states_started_at", "started_at"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    agent: Mapped[str] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(String(64))
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class SurveyScore(Base):
    """A caller's satisfaction score (1–5) for a call, from ivr's ``SurveyAnswered``."""

    __tablename__ = "cms_surveys"

    call_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    agent: Mapped[str | None] = mapped_column(String(16))
    score: Mapped[int] = mapped_column(SmallInteger)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class FactPending(Base):
    """A call whose facts must be derived (again) once ``due_at`` has passed."""

    __tablename__ = "cms_fact_pending"

    call_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    due_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class DirtyInterval(Base):
    """An aggregate row to recount from the facts (``kind``: queue, agent, state); written in the same
    transaction as the facts that changed, so a crash never leaves an aggregate stale."""

    __tablename__ = "cms_dirty"

    kind: Mapped[str] = mapped_column(String(8), primary_key=True)
    bucket: Mapped[datetime] = mapped_column(DateTime(timezone=True), primary_key=True)
    queue: Mapped[str] = mapped_column(String(80), primary_key=True)
    agent: Mapped[str] = mapped_column(String(16), primary_key=True)


class QueueInterval(QueueSums, Base):
    """The calls of one queue in one 15-minute interval, summed (cms.metrics.Totals' names)."""

    __tablename__ = "cms_queue_intervals"

    bucket: Mapped[datetime] = mapped_column(DateTime(timezone=True), primary_key=True)
    queue: Mapped[str] = mapped_column(String(80), primary_key=True)


class AgentInterval(AgentSums, Base):
    """The calls one agent answered from one queue in one 15-minute interval, summed."""

    __tablename__ = "cms_agent_intervals"

    bucket: Mapped[datetime] = mapped_column(DateTime(timezone=True), primary_key=True)
    agent: Mapped[str] = mapped_column(String(16), primary_key=True)
    queue: Mapped[str] = mapped_column(String(80), primary_key=True)


class AgentStateInterval(StateSums, Base):
    """One agent's time per kind of state in one 15-minute interval (seconds)."""

    __tablename__ = "cms_agent_state_intervals"

    bucket: Mapped[datetime] = mapped_column(DateTime(timezone=True), primary_key=True)
    agent: Mapped[str] = mapped_column(String(16), primary_key=True)


class FloorStateInterval(StateSums, Base):
    """Every agent's state time in one 15-minute interval, summed (a month by interval reads ~2900 rows, not
    one per agent and interval)."""

    __tablename__ = "cms_floor_state_intervals"

    bucket: Mapped[datetime] = mapped_column(DateTime(timezone=True), primary_key=True)


# the same sums per local day (cms/reports.yaml's time zone), recounted from the interval rows: a month's
# report reads ~30 rows per queue or agent instead of ~2900
class QueueDay(QueueSums, Base):
    __tablename__ = "cms_queue_days"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    queue: Mapped[str] = mapped_column(String(80), primary_key=True)


class AgentDay(AgentSums, Base):
    __tablename__ = "cms_agent_days"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    agent: Mapped[str] = mapped_column(String(16), primary_key=True)
    queue: Mapped[str] = mapped_column(String(80), primary_key=True)


class AgentStateDay(StateSums, Base):
    __tablename__ = "cms_agent_state_days"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    agent: Mapped[str] = mapped_column(String(16), primary_key=True)
