from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, DateTime, ForeignKey, Index, String, func
from sqlalchemy.orm import Mapped, mapped_column

from hotline.auth.models import User
from hotline.db import Base


class SupervisorPhone(Base):
    """A supervisor's own phone: the one that rings to listen, whisper or barge (rendered into pjsip.conf
    like an agent's, registering with its extension and SIP password)."""

    __tablename__ = "supervisor_phones"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey(User.id, ondelete="CASCADE"), unique=True)
    extension: Mapped[str] = mapped_column(String(16), unique=True)
    sip_password: Mapped[str] = mapped_column(String(64))


class SupervisionEntry(Base):
    """Who listened to, whispered to or barged into whose call, or forced whose state, and when. Written
    before the action is attempted; ``result`` then says how it went."""

    __tablename__ = "supervision_log"
    __table_args__ = (Index("ix_supervision_log_at", "at"), Index("ix_supervision_log_agent", "agent"))

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    supervisor: Mapped[str] = mapped_column(String(64))  # username
    agent: Mapped[str] = mapped_column(String(16))  # extension
    action: Mapped[str] = mapped_column(String(16))  # listen, whisper, barge, pause, logout
    call_id: Mapped[str | None] = mapped_column(String(64))
    phone: Mapped[str | None] = mapped_column(String(16))  # the supervisor's phone that rang
    detail: Mapped[str | None] = mapped_column(String(200))  # a pause reason
    result: Mapped[str] = mapped_column(String(200), default="requested")
