from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field


class AgentView(BaseModel):
    extension: str
    name: str
    state: str
    pause_reason: str | None = None
    state_since: datetime
    desk_connected: bool = False


class PauseRequest(BaseModel):
    reason: str = Field("break", min_length=1, max_length=64, pattern=r"^[\w .-]+$")


class AgentCreate(BaseModel):
    username: str = Field(
        min_length=1, max_length=16, pattern=r"^\d+$", description="the user's username: the extension"
    )


class AgentCreated(BaseModel):
    agent: AgentView
    sip_password: str = Field(description="shown once; the phone registers with it after the next start")
