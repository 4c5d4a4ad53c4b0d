from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field


class AgentView(BaseModel):
    extension: str
    name: str
    state: str  # logged_out, available, ringing, on_call, on_hold, wrap_up, paused
    pause_reason: str | None = None
    state_since: datetime
    desk_connected: bool = False
    queues: list[str] | None = None  # the queues logged in to (None: every queue)


class PauseRequest(BaseModel):
    reason: str = Field("break", min_length=1, max_length=64, pattern=r"^[\w .-]+$")


class LoginRequest(BaseModel):
    queues: list[str] | None = Field(None, max_length=50, description="the queues to take calls from (none: all)")


class AgentCreate(BaseModel):
    username: str = Field(
        min_length=1, max_length=16, pattern=r"^\d+$", description="the user's username: the extension"
    )


class AgentCreated(BaseModel):
    agent: AgentView
    sip_password: str = Field(description="shown once; the phone registers with it after the next start")


class DispositionIn(BaseModel):
    code: str = Field(min_length=1, max_length=40, pattern=r"^[\w .-]+$", description="e.g. resolved, order_opened")
    note: str | None = Field(None, max_length=2000)
    call_id: str | None = Field(None, max_length=64, pattern=r"^[\w.-]+$", description="default: the agent's last call")


class DispositionOut(BaseModel):
    agent: str
    call_id: str | None
    code: str
    at: datetime
    state: str  # the agent's state after it (available once the wrap-up ended)
