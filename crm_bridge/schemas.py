from __future__ import annotations

from pydantic import BaseModel


class TicketSummary(BaseModel):
    id: int
    kind: str
    subject: str
    waybill: str | None = None
    status: str


class CustomerCard(BaseModel):
    """What an agent's screen shows about a caller: the screen-pop's customer part."""

    id: int
    name: str
    phone: str
    tier: str
    company: str | None = None
    city: str | None = None
    open_tickets: list[TicketSummary] = []
