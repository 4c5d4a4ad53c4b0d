"""What the ACD tells the rest of the system about agents (its public contract)."""

from __future__ import annotations

from datetime import datetime

from hotline.events import Event


class AgentStateChanged(Event):
    agent: str  # extension
    state: str  # logged_out, available, paused
    pause_reason: str | None = None
    since: datetime
