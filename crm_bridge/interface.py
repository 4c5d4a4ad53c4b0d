"""The CRM's service interface for other packages (the IVR and CTI look callers up through it)."""

from __future__ import annotations

from typing import Protocol

from crm_bridge.schemas import CustomerCard
from hotline.plugins import ServiceKey


class CustomerLookup(Protocol):
    async def card_by_phone(self, number: str | None) -> CustomerCard | None: ...

    async def card_by_id(self, customer_id: int) -> CustomerCard | None: ...


CUSTOMERS: ServiceKey[CustomerLookup] = ServiceKey("crm_bridge.customers")
