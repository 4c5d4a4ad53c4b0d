"""What the ACD tells the rest of the system about agents (its public contract)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

from hotline.events import Event

AGENT_STATE_RECORD = "agent_state"  # the outbox kind of ``AgentStateRecord``


class AgentStateRecord(BaseModel):
    """One agent-state change as the outbox keeps it until the database has it. Another package that stores
    agents' states takes these records (``Outbox.subscribe``) instead of keeping a copy of its own: one local
    write per change, and its rows land in the same transaction as the ACD's."""

    event_id: str
    extension: str
    state: str
    reason: str | None
    at: datetime
    queues: list[str] | None = None  # with ``set_queues``: the queues the agent logged in to
    set_queues: bool = False
    changed: bool = True  # False: only the queues changed; the state and its reason are as before


class AgentStateChanged(Event):
    agent: str  # extension
    state: str  # logged_out, available, paused
    pause_reason: str | None = None
    since: datetime
