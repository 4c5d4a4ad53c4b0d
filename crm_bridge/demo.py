"""Demo customers (demo mode only): a VIP with open work orders, a regular, a key account, a walk-in."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from crm_bridge.models import Customer, Ticket, TicketStatus, Tier
from crm_bridge.phones import normalise
from hotline.auth import Passwords

# (phone, name, tier, company, city, open tickets [(kind, subject, waybill)])
CUSTOMERS: list[tuple[str, str, Tier, str | None, str, list[tuple[str, str, str | None]]]] = [
    (
        "13800138000",
        "Zhang Wei",
        Tier.vip,
        "Huaxin Trading Co.",
        "Beijing",
        [
            ("delivery_urging", "Parcel stuck at Beijing hub for 3 days", "SF1234567890"),
            ("claim", "Damaged ceramic vase, claim filed", "SF1234500001"),
        ],
    ),
    (
        "13900139000",
        "Li Na",
        Tier.regular,
        None,
        "Shanghai",
        [("inquiry", "Customs duty for a parcel from Japan", None)],
    ),
    ("13700137000", "Chen Gang", Tier.key_account, "Eastern Electronics Ltd.", "Shenzhen", []),
    ("13600136000", "Wang Xiu", Tier.walk_in, None, "Guangzhou", []),
]


async def load(session: AsyncSession, _: Passwords) -> None:
    """Idempotent: customers already there (by phone) are left as they are."""
    phones = set((await session.execute(select(Customer.phone))).scalars())
    for raw, name, tier, company, city, tickets in CUSTOMERS:
        phone = normalise(raw) or raw
        if phone in phones:
            continue
        customer = Customer(phone=phone, name=name, tier=tier, company=company, city=city)
        customer.tickets = [
            Ticket(kind=k, subject=subj, waybill=wb, status=TicketStatus.open) for k, subj, wb in tickets
        ]
        session.add(customer)
