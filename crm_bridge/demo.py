"""Demo customers (demo mode only): a VIP, a regular, a key account, a walk-in (their work orders: workorders.demo)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from crm_bridge.models import Customer, Tier
from crm_bridge.phones import normalise
from hotline.auth import Passwords

# (phone, name, tier, company, city)
CUSTOMERS: list[tuple[str, str, Tier, str | None, str]] = [
    ("13800138000", "Zhang Wei", Tier.vip, "Huaxin Trading Co.", "Beijing"),
    ("13900139000", "Li Na", Tier.regular, None, "Shanghai"),
    ("13700137000", "Chen Gang", Tier.key_account, "Eastern Electronics Ltd.", "Shenzhen"),
    ("13600136000", "Wang Xiu", Tier.walk_in, None, "Guangzhou"),
]


async def load(session: AsyncSession, _: Passwords) -> None:
    """Idempotent: customers already there (by phone) are left as they are."""
    phones = set((await session.execute(select(Customer.phone))).scalars())
    for raw, name, tier, company, city in CUSTOMERS:
        phone = normalise(raw) or raw
        if phone in phones:
            continue
        session.add(Customer(phone=phone, name=name, tier=tier, company=company, city=city))
