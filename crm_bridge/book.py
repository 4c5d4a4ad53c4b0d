"""The customer book for the back office: search with paging, one customer in full, create and update."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy import delete, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from crm_bridge.errors import AgreementTaken, CustomerNotFound, InvalidPhone, PhoneTaken
from crm_bridge.models import Customer, CustomerAddress, CustomerPhone, GradeChange, Tier
from crm_bridge.phones import customer_number, normalise
from crm_bridge.schemas import (
    AddressView,
    CustomerCreate,
    CustomerDetail,
    CustomerListItem,
    CustomerPage,
    CustomerUpdate,
    GradeChangeView,
)
from crm_bridge.service import card_columns, card_from_row, where_phone
from hotline.db import Database

HISTORY_SHOWN = 50


def normalise_phones(raw: list[str]) -> list[str]:
    """E.164 for each number, in order; a number that is no phone number or comes twice is refused."""
    phones: list[str] = []
    for number in raw:
        phone = customer_number(number)
        if phone is None:
            raise InvalidPhone(f"{number!r} is not a phone number")
        if phone in phones:
            raise InvalidPhone(f"{number!r} is given twice")
        phones.append(phone)
    return phones


def _like(text: str) -> str:
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


class CustomerBook:
    def __init__(self, db: Database, clock: Callable[[], datetime]) -> None:
        self.db = db
        self.clock = clock

    async def search(
        self,
        q: str | None = None,
        tier: Tier | None = None,
        phone: str | None = None,
        company: str | None = None,
        page: int = 1,
        per_page: int = 25,
    ) -> CustomerPage:
        """``q`` matches a phone number (any of a customer's, any form), or a part of the name or company
        (trigram indexes); ``phone``, ``company`` and ``tier`` narrow further. Ordered by id."""
        stmt = select(Customer)
        if q and q.strip():
            text = q.strip()
            number = normalise(text) if sum(c.isdigit() for c in text) >= 5 else None
            by_text = or_(Customer.name.ilike(_like(text)), Customer.company.ilike(_like(text)))
            stmt = stmt.where(or_(where_phone(number), by_text) if number else by_text)
        if phone:
            number = normalise(phone)
            if number is None:
                raise InvalidPhone(f"{phone!r} is not a phone number")
            stmt = stmt.where(where_phone(number))
        if company:
            stmt = stmt.where(Customer.company.ilike(_like(company.strip())))
        if tier is not None:
            stmt = stmt.where(Customer.tier == tier)
        async with self.db.session() as s:
            total = await s.scalar(select(func.count()).select_from(stmt.subquery()))
            rows = await s.execute(stmt.order_by(Customer.id).offset((page - 1) * per_page).limit(per_page))
            items = [CustomerListItem.model_validate(c) for c in rows.scalars()]
        return CustomerPage(items=items, total=total or 0, page=page, per_page=per_page)

    async def detail(self, customer_id: int) -> CustomerDetail:
        async with self.db.session() as s:
            row = (await s.execute(card_columns().where(Customer.id == customer_id))).one_or_none()
            customer = await s.get(Customer, customer_id)
            if row is None or customer is None:
                raise CustomerNotFound(f"no customer {customer_id}")
            addresses = await s.execute(
                select(CustomerAddress).where(CustomerAddress.customer_id == customer_id).order_by(CustomerAddress.id)
            )
            history = await s.execute(
                select(GradeChange)
                .where(GradeChange.customer_id == customer_id)
                .order_by(GradeChange.at.desc(), GradeChange.id.desc())
                .limit(HISTORY_SHOWN)
            )
            return CustomerDetail(
                card=card_from_row(row),
                tier_manual=customer.tier_manual,
                credit=customer.credit,
                addresses=[AddressView.model_validate(a) for a in addresses.scalars()],
                grade_history=[GradeChangeView.model_validate(g) for g in history.scalars()],
                created_at=customer.created_at,
                updated_at=customer.updated_at,
            )

    async def create(self, body: CustomerCreate, by: str) -> CustomerDetail:
        phones = normalise_phones(body.phones)
        now = self.clock()
        async with self.db.session() as s:
            await self._refuse_taken(s, phones, None)
            customer = Customer(
                name=body.name,
                phone=phones[0],
                tier=body.tier,
                tier_manual=body.tier != Tier.walk_in,  # a tier given by hand is kept until lifted
                **body.model_dump(include={"company", "city", "language", "agreement", "home_office"}),
                **body.model_dump(include={"dedicated_agent", "notes", "credit"}),
            )
            customer.phones = [CustomerPhone(number=p, is_primary=i == 0) for i, p in enumerate(phones)]
            customer.addresses = [CustomerAddress(**a.model_dump()) for a in body.addresses]
            s.add(customer)
            await self._commit(s, flush_only=True)
            s.add(
                GradeChange(
                    customer_id=customer.id,
                    old_tier=None,
                    new_tier=body.tier,
                    reason="created",
                    by=by,
                    manual=customer.tier_manual,
                    at=now,
                )
            )
            await self._commit(s)
            customer_id = customer.id
        return await self.detail(customer_id)

    async def update(self, customer_id: int, body: CustomerUpdate) -> CustomerDetail:
        fields = body.model_dump(exclude_unset=True, exclude={"phones", "addresses"})
        if fields.get("name") is None:
            fields.pop("name", None)
        if fields.get("credit") is None:
            fields.pop("credit", None)
        async with self.db.session() as s:
            customer = await s.get(Customer, customer_id, with_for_update=True)
            if customer is None:
                raise CustomerNotFound(f"no customer {customer_id}")
            for name, value in fields.items():
                setattr(customer, name, value)
            if body.phones is not None:
                phones = normalise_phones(body.phones)
                await self._refuse_taken(s, phones, customer_id)
                # replaced as a whole: deleted first, so a number may change place or become primary
                await s.execute(delete(CustomerPhone).where(CustomerPhone.customer_id == customer_id))
                s.add_all(
                    CustomerPhone(customer_id=customer_id, number=p, is_primary=i == 0) for i, p in enumerate(phones)
                )
                customer.phone = phones[0]
            if body.addresses is not None:
                await s.execute(delete(CustomerAddress).where(CustomerAddress.customer_id == customer_id))
                s.add_all(CustomerAddress(customer_id=customer_id, **a.model_dump()) for a in body.addresses)
            customer.updated_at = self.clock()
            await self._commit(s)
        return await self.detail(customer_id)

    @staticmethod
    async def _refuse_taken(s: AsyncSession, phones: list[str], customer_id: int | None) -> None:
        stmt = select(CustomerPhone.number, CustomerPhone.customer_id).where(CustomerPhone.number.in_(phones))
        taken = [(n, c) for n, c in (await s.execute(stmt)).all() if c != customer_id]
        if taken:
            number, owner = taken[0]
            raise PhoneTaken(f"{number} already belongs to customer {owner}")

    @staticmethod
    async def _commit(s: AsyncSession, flush_only: bool = False) -> None:
        """Commit (or flush); a unique number or agreement taken by someone else is a conflict, not a 500."""
        try:
            await (s.flush() if flush_only else s.commit())
        except IntegrityError as e:
            await s.rollback()
            text = str(e.orig)
            if "agreement" in text:
                raise AgreementTaken("this agreement number belongs to another customer") from None
            raise PhoneTaken("one of these numbers belongs to another customer") from None
