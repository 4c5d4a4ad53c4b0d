"""QA tables: scoring forms (immutable versions) and their criteria, the monthly samples, the evaluations
and their per-criterion marks. Recordings are referred to by id only: they belong to another package and may
be purged while the evaluation of the call is kept."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from hotline.db import Base


class QaForm(Base):
    """One version of a scoring form: never changed once created (a new version is a new row), so an
    evaluation always shows the criteria and weights it was scored on."""

    __tablename__ = "qa_forms"
    __table_args__ = (UniqueConstraint("name", "version", name="uq_qa_forms_name_version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(60))
    version: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(160))
    description: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    retired_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class QaCriterion(Base):
    __tablename__ = "qa_criteria"
    __table_args__ = (UniqueConstraint("form_id", "key", name="uq_qa_criteria_form_id_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    form_id: Mapped[int] = mapped_column(ForeignKey(QaForm.id, ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    key: Mapped[str] = mapped_column(String(40))
    label: Mapped[str] = mapped_column(String(300))
    guidance: Mapped[str] = mapped_column(Text, default="")
    weight: Mapped[float] = mapped_column(Float)
    max_score: Mapped[int] = mapped_column(Integer)
    critical: Mapped[bool] = mapped_column(Boolean, default=False)
    allow_na: Mapped[bool] = mapped_column(Boolean, default=False)


class QaSample(Base):
    """A recorded call drawn for review in an agent's month (a copy of what the recordings said of it)."""

    __tablename__ = "qa_samples"
    __table_args__ = (
        UniqueConstraint("month", "recording_id", name="uq_qa_samples_month_recording_id"),
        Index("ix_qa_samples_month_agent", "month", "agent"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    month: Mapped[str] = mapped_column(String(7))  # YYYY-MM in the configured time zone
    agent: Mapped[str] = mapped_column(String(16))
    recording_id: Mapped[int] = mapped_column(Integer)
    call_id: Mapped[str] = mapped_column(String(64))
    queue: Mapped[str | None] = mapped_column(String(80))
    customer_id: Mapped[int | None] = mapped_column(Integer)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    duration_seconds: Mapped[float] = mapped_column(Float)
    draw_key: Mapped[str] = mapped_column(String(64))  # the SHA-256 that chose it (qa.sampling)
    drawn_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    drawn_by: Mapped[str] = mapped_column(String(64))  # a supervisor's username, or "system"


class QaEvaluation(Base):
    """A reviewer's scoring of a sampled call. The first is the call's review (what the agent sees,
    acknowledges or disputes); others by other reviewers are calibration scorings of the same call."""

    __tablename__ = "qa_evaluations"
    __table_args__ = (
        UniqueConstraint("sample_id", "reviewer", name="uq_qa_evaluations_sample_id_reviewer"),
        Index(
            "uq_qa_evaluations_one_review",
            "sample_id",
            unique=True,
            postgresql_where=text("purpose = 'review'"),
        ),
        Index("ix_qa_evaluations_agent_submitted_at", "agent", "submitted_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    sample_id: Mapped[int] = mapped_column(ForeignKey(QaSample.id, ondelete="CASCADE"))
    form_id: Mapped[int] = mapped_column(ForeignKey(QaForm.id, ondelete="RESTRICT"))
    agent: Mapped[str] = mapped_column(String(16))
    queue: Mapped[str | None] = mapped_column(String(80))
    call_id: Mapped[str] = mapped_column(String(64))
    reviewer: Mapped[str] = mapped_column(String(64))
    purpose: Mapped[str] = mapped_column(String(16))  # review | calibration
    total: Mapped[float] = mapped_column(Float)
    raw_total: Mapped[float] = mapped_column(Float)
    critical_failures: Mapped[list[str]] = mapped_column(ARRAY(String(40)))
    comment: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16))  # submitted | acknowledged | disputed | upheld | amended
    submitted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    acknowledged_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    dispute_reason: Mapped[str | None] = mapped_column(Text)
    disputed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    resolved_by: Mapped[str | None] = mapped_column(String(64))
    resolution_note: Mapped[str | None] = mapped_column(Text)
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    total_before_resolution: Mapped[float | None] = mapped_column(Float)


class QaMark(Base):
    """One criterion's score in an evaluation (None: not applicable to this call)."""

    __tablename__ = "qa_marks"
    __table_args__ = (UniqueConstraint("evaluation_id", "criterion_id", name="uq_qa_marks_evaluation_id_criterion_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    evaluation_id: Mapped[int] = mapped_column(ForeignKey(QaEvaluation.id, ondelete="CASCADE"))
    criterion_id: Mapped[int] = mapped_column(ForeignKey(QaCriterion.id, ondelete="RESTRICT"))
    score: Mapped[int | None] = mapped_column(Integer)
    comment: Mapped[str] = mapped_column(String(500), default="")
