from __future__ import annotations

from pydantic import BaseModel


class CustomerCard(BaseModel):
    """What an agent's screen shows about a caller: the screen-pop's customer part."""

    id: int
    name: str
    phone: str
    tier: str
    company: str | None = None
    city: str | None = None
