from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field


class SessionRequest(BaseModel):
    extension: str = Field(min_length=1, max_length=16, pattern=r"^\d+$")
    password: str = Field(min_length=1, max_length=200)


class AgentView(BaseModel):
    extension: str
    name: str
    state: str
    pause_reason: str | None = None
    state_since: datetime
    desk_connected: bool = False


class SessionResponse(BaseModel):
    token: str
    agent: AgentView


class PauseRequest(BaseModel):
    reason: str = Field("break", min_length=1, max_length=64, pattern=r"^[\w .-]+$")
