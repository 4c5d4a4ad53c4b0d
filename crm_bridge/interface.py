"""The CRM's service interface for other packages (the IVR and CTI look callers up through it)."""

from __future__ import annotations

from typing import Protocol

from crm_bridge.schemas import CustomerCard
from hotline.plugins import ServiceKey


class CustomerLookup(Protocol):
    async def card_by_phone(self, number: str | None) -> CustomerCard | None: ...

    async def card_by_id(self, customer_id: int) -> CustomerCard | None: ...


CUSTOMERS: ServiceKey[CustomerLookup] = ServiceKey("crm_bridge.customers")


class CallerAddress(Protocol):
    @property
    def text(self) -> str: ...

    @property
    def postal_code(self) -> str | None: ...


class CallerProfile(Protocol):
    """What the IVR keeps and reads about a known caller beside the card."""

    async def set_language(self, customer_id: int, language: str) -> None:
        """Remember the language the caller chose (used for their next call)."""
        ...

    async def addresses(self, customer_id: int) -> list[CallerAddress]:
        """The customer's addresses, the first being the one to offer (e.g. for a pickup)."""
        ...


CALLER_PROFILE: ServiceKey[CallerProfile] = ServiceKey("crm_bridge.caller_profile")
