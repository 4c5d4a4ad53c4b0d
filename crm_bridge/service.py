"""Customer look-ups for the IVR and the desk."""

from __future__ import annotations

from sqlalchemy import select

from crm_bridge.models import Customer
from crm_bridge.phones import normalise
from crm_bridge.schemas import CustomerCard
from hotline.db import Database
from hotline.errors import DatabaseUnavailable


class CustomerDirectory:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def card_by_phone(self, number: str | None) -> CustomerCard | None:
        phone = normalise(number)
        if phone is None:
            return None
        return await self._card(Customer.phone == phone)

    async def card_by_id(self, customer_id: int) -> CustomerCard | None:
        return await self._card(Customer.id == customer_id)

    async def _card(self, where) -> CustomerCard | None:  # type: ignore[no-untyped-def]
        if not self.db.available:  # the health probe says the database is away: do not queue up behind it
            raise DatabaseUnavailable("the customer database is not reachable right now")
        stmt = select(Customer).where(where)
        async with self.db.session() as s:
            customer = (await s.execute(stmt)).scalar_one_or_none()
            if customer is None:
                return None
            return CustomerCard(
                id=customer.id,
                name=customer.name,
                phone=customer.phone,
                tier=customer.tier.value,
                company=customer.company,
                city=customer.city,
            )
