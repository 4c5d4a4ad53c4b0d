"""The CMS's service interface for other packages."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

from pydantic import BaseModel

from hotline.plugins import ServiceKey


class ContactHistory(Protocol):
    async def recent(self, customer_id: int, limit: int = 3) -> list[dict[str, Any]]:
        """The customer's most recent contacts, newest first (for the screen-pop)."""
        ...

    async def last_agent(self, customer_id: int, since: datetime) -> str | None:
        """The agent who last answered one of the customer's calls since ``since`` (the ACD's sticky agent)."""
        ...

    async def last_agents(self, since: datetime) -> list[tuple[int, str, datetime]]:
        """(customer, agent, when) of every customer's last answered call since ``since``: one pass that lets
        the ACD hold its sticky agents in memory."""
        ...


CONTACT_HISTORY: ServiceKey[ContactHistory] = ServiceKey("cms.contact_history")


class EndedCall(BaseModel):
    """A stored call as the live statistics need it (``handled_by``: each agent who answered it, with their
    talk seconds)."""

    call_id: str
    queue: str | None
    agent: str | None
    outcome: str
    queued_at: datetime | None
    answered_at: datetime | None
    ended_at: datetime | None
    wait_seconds: float | None
    talk_seconds: float | None
    handled_by: list[tuple[str, float]] = []


class CallsEnded(Protocol):
    async def ended_since(self, since: datetime) -> list[EndedCall]:
        """The calls stored as ended at or after ``since`` (the wallboard rebuilds today's figures from them)."""
        ...


CALLS_ENDED: ServiceKey[CallsEnded] = ServiceKey("cms.calls_ended")
