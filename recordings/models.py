from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Computed, DateTime, Float, ForeignKey, Index, String, Text, func, text
from sqlalchemy.dialects.postgresql import JSONB, TSVECTOR
from sqlalchemy.orm import Mapped, mapped_column

from hotline.auth.models import User
from hotline.db import Base


class Recording(Base):
    __tablename__ = "recordings"

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[str] = mapped_column(String(64), unique=True)  # the call's linkedid
    path: Mapped[str] = mapped_column(String(400))  # relative to the recordings directory
    agent: Mapped[str | None] = mapped_column(String(16))
    queue: Mapped[str | None] = mapped_column(String(80))
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id", ondelete="SET NULL"))
    duration_seconds: Mapped[float] = mapped_column(Float)
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now(), index=True)
    format: Mapped[str] = mapped_column(String(16), server_default="wav")  # wav | opus (Ogg/Opus)
    policy: Mapped[str | None] = mapped_column(String(16))  # the queue's policy when it was recorded
    legs: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, server_default=text("'[]'::jsonb"))
    # the desk's pauses (card data): seconds from the recording's start, silence in the file
    pauses: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, server_default=text("'[]'::jsonb"))
    purged_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))  # the file deleted (retention)
    transcript_state: Mapped[str] = mapped_column(String(16), server_default="pending")  # pending|done|failed
    transcript: Mapped[str | None] = mapped_column(Text)
    transcript_language: Mapped[str | None] = mapped_column(String(8))
    transcribed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # 'simple': no stemming nor stop words, so English and Korean words are found as they were said
    transcript_tsv: Mapped[Any] = mapped_column(
        TSVECTOR, Computed("to_tsvector('simple', coalesce(transcript, ''))", persisted=True), nullable=True
    )

    __table_args__ = (Index("ix_recordings_transcript_tsv", "transcript_tsv", postgresql_using="gin"),)


class RecordingAccess(Base):
    """Who played or downloaded which recording, when, from where (written before the audio is served)."""

    __tablename__ = "recording_access"

    id: Mapped[int] = mapped_column(primary_key=True)
    recording_id: Mapped[int | None] = mapped_column(ForeignKey("recordings.id", ondelete="SET NULL"), index=True)
    call_id: Mapped[str] = mapped_column(String(64))
    user_id: Mapped[int | None] = mapped_column(ForeignKey(User.id, ondelete="SET NULL"))
    username: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(16))  # play | download
    address: Mapped[str | None] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now(), index=True)
