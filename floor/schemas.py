from __future__ import annotations

import enum
from datetime import datetime

from pydantic import BaseModel, Field


class SpyMode(enum.StrEnum):
    listen = "listen"  # hear both sides, unheard
    whisper = "whisper"  # speak to the agent only
    barge = "barge"  # speak to both


class SuperviseRequest(BaseModel):
    mode: SpyMode


class ForcePauseRequest(BaseModel):
    reason: str = Field("supervisor", min_length=1, max_length=64, pattern=r"^[\w .-]+$")


class SupervisionView(BaseModel):
    model_config = {"from_attributes": True}

    id: int
    at: datetime
    supervisor: str
    agent: str
    action: str
    call_id: str | None
    phone: str | None
    detail: str | None
    result: str


class PhoneCreate(BaseModel):
    username: str = Field(min_length=1, max_length=64, description="a supervisor's (or admin's) username")
    extension: str = Field(
        min_length=1, max_length=16, pattern=r"^\d+$", description="the phone's extension (not an agent's)"
    )


class PhoneView(BaseModel):
    username: str
    extension: str


class PhoneCreated(PhoneView):
    sip_password: str = Field(description="shown once; the phone registers with it after the next start")
