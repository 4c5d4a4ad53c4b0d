"""The CMS's service interface for other packages."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

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
