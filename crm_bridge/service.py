"""Customer look-ups for the IVR and the desk: a caller ID (any of a customer's numbers) or an id → card.

The phone look-up is one statement: the unique index on ``customer_phones.number`` finds the row, the
customer comes by primary key, and the customer's numbers (``ix_customer_phones_customer_id``) come in a
correlated sub-select, so the whole card is one round trip (the pop's other parts — shipments, work orders,
contacts — come from their own packages, side by side).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Select, bindparam, func, select, update
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.orm import aliased

from crm_bridge.models import Customer, CustomerAddress, CustomerPhone
from crm_bridge.phones import normalise
from crm_bridge.schemas import AddressView, CustomerCard
from hotline.db import Database
from hotline.errors import DatabaseUnavailable

CardSelect = Select[*tuple[Any, ...]]


def phones_of_customer() -> Any:
    """The customer's numbers, primary first, as an array (a correlated sub-select on ``Customer.id``)."""
    p = aliased(CustomerPhone)  # the outer query may read customer_phones too (the look-up by number)
    return (
        select(func.array_agg(aggregate_order_by(p.number, p.is_primary.desc(), p.id)))
        .where(p.customer_id == Customer.id)
        .correlate(Customer)
        .scalar_subquery()
    )


def card_columns() -> CardSelect:
    stmt: CardSelect = select(
        Customer.id,
        Customer.name,
        Customer.phone,
        Customer.tier,
        Customer.company,
        Customer.city,
        Customer.language,
        Customer.agreement,
        Customer.home_office,
        Customer.dedicated_agent,
        Customer.notes,
        phones_of_customer().label("phones"),
    )
    return stmt


def card_from_row(row: Any) -> CustomerCard:
    return CustomerCard(
        id=row.id,
        name=row.name,
        phone=row.phone,
        tier=row.tier.value,
        company=row.company,
        city=row.city,
        phones=list(row.phones or [row.phone]),
        language=row.language,
        agreement=row.agreement,
        home_office=row.home_office,
        dedicated_agent=row.dedicated_agent,
        notes=row.notes,
    )


class CustomerDirectory:
    """Implements ``crm_bridge.interface.CustomerLookup``. The two statements are built once (building
    one costs more than running it) and run on a plain connection, with no ORM session around them."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._by_phone = (
            card_columns()
            .join_from(CustomerPhone, Customer, CustomerPhone.customer_id == Customer.id)
            .where(CustomerPhone.number == bindparam("number"))
        )
        self._by_id = card_columns().where(Customer.id == bindparam("customer_id"))

    async def card_by_phone(self, number: str | None) -> CustomerCard | None:
        phone = normalise(number)
        if phone is None:
            return None
        return await self._card(self._by_phone, {"number": phone})

    async def card_by_id(self, customer_id: int) -> CustomerCard | None:
        return await self._card(self._by_id, {"customer_id": customer_id})

    async def _card(self, stmt: CardSelect, params: dict[str, Any]) -> CustomerCard | None:
        if not self.db.available:  # the health probe says the database is away: do not queue up behind it
            raise DatabaseUnavailable("the customer database is not reachable right now")
        rows = await self.db.fetch(stmt, params)
        return card_from_row(rows[0]) if rows else None


class CallerProfiles:
    """Implements ``crm_bridge.interface.CallerProfile``: the language a caller chose, their addresses."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def set_language(self, customer_id: int, language: str) -> None:
        async with self.db.session() as session:
            await session.execute(update(Customer).where(Customer.id == customer_id).values(language=language[:16]))
            await session.commit()

    async def addresses(self, customer_id: int) -> list[AddressView]:
        async with self.db.session() as session:
            rows = await session.execute(
                select(CustomerAddress).where(CustomerAddress.customer_id == customer_id).order_by(CustomerAddress.id)
            )
            return [AddressView.model_validate(a) for a in rows.scalars()]


def where_phone(phone: str) -> ColumnElement[bool]:
    """Customers having ``phone`` (E.164) among their numbers."""
    return Customer.id.in_(select(CustomerPhone.customer_id).where(CustomerPhone.number == phone))
