"""The IVR's tables: every node visit of every call, and the satisfaction surveys."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, DateTime, Index, Integer, SmallInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from hotline.db import Base


class NodeVisit(Base):
    """One node of one call's walk through the menu: what was asked, what the caller did, how it ended.
    Containment and drop-off per node are counted from these."""

    __tablename__ = "ivr_visits"
    __table_args__ = (
        Index("uq_ivr_visits_call_seq", "call_id", "seq", unique=True),
        Index("ix_ivr_visits_node_at", "node", "at"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    call_id: Mapped[str] = mapped_column(String(64))  # the caller channel's uniqueid (the call's linkedid)
    seq: Mapped[int] = mapped_column(Integer)  # the visit's place in the walk, from 1
    menu_version: Mapped[str] = mapped_column(String(16))
    node: Mapped[str] = mapped_column(String(80))
    kind: Mapped[str] = mapped_column(String(16))
    language: Mapped[str | None] = mapped_column(String(16))
    input: Mapped[str | None] = mapped_column(String(80))
    result: Mapped[str] = mapped_column(String(80))
    duration_ms: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class SurveyAnswer(Base):
    """A caller's 1–5 score, against the call and the agent who served it (none: asked in the IVR)."""

    __tablename__ = "ivr_surveys"

    call_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    agent: Mapped[str | None] = mapped_column(String(64), index=True)
    score: Mapped[int] = mapped_column(SmallInteger)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
