"""Demo customers (demo mode only): a VIP (their work orders: workorders.demo), a regular, a key account on an
agreement with its home office and dedicated agent 1001, a walk-in; second numbers and addresses for each."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from crm_bridge.models import (
    CreditRating,
    Customer,
    CustomerAddress,
    CustomerPhone,
    GradeChange,
    Tier,
)
from crm_bridge.phones import normalise
from hotline.auth import Passwords


@dataclass(frozen=True)
class DemoCustomer:
    phones: list[str]  # the first is the primary number (the demo callers dial from it)
    name: str
    tier: Tier
    city: str
    addresses: list[tuple[str, str, str]]  # (label, text, postal code)
    company: str | None = None
    language: str = "zh"
    agreement: str | None = None
    home_office: str | None = None
    dedicated_agent: str | None = None
    credit: CreditRating = CreditRating.good
    notes: str | None = None
    kept: bool = True  # the tier is held by hand, so grading from the demo's shipments leaves it as shown


CUSTOMERS: list[DemoCustomer] = [
    DemoCustomer(
        ["13800138000", "01065529988"],
        "Zhang Wei",
        Tier.vip,
        "Beijing",
        [("office", "Chaoyang District, Jianguo Road 88, Tower B 1203", "100022")],
        company="Huaxin Trading Co.",
        notes="Prefers calls after 10:00.",
    ),
    DemoCustomer(
        ["13900139000", "13901390001"],
        "Li Na",
        Tier.regular,
        "Shanghai",
        [("home", "Xuhui District, Tianyaoqiao Road 1178, 5-302", "200030")],
        language="en",
    ),
    DemoCustomer(
        ["13700137000", "075586001234", "13700137001"],
        "Chen Gang",
        Tier.key_account,
        "Shenzhen",
        [
            ("head office", "Nanshan District, Keyuan Road 15, Building 3", "518057"),
            ("warehouse", "Bao'an District, Fuyong Industrial Park 7", "518103"),
        ],
        company="Eastern Electronics Ltd.",
        agreement="AGR-2024-0042",
        home_office="SZ-NS",
        dedicated_agent="1001",
        notes="Agreement customer: monthly invoicing; claims go through the green channel.",
    ),
    DemoCustomer(
        ["13600136000", "02087654321"],
        "Wang Xiu",
        Tier.walk_in,
        "Guangzhou",
        [("home", "Tianhe District, Tiyu West Road 191", "510620")],
        language="zh-HK",
        credit=CreditRating.watch,
        kept=False,  # graded from shipment history like any customer
    ),
]


async def load(session: AsyncSession, _: Passwords) -> None:
    """Idempotent: a customer whose primary number is already known is left as it is."""
    now = datetime.now(UTC)
    known = set((await session.execute(select(CustomerPhone.number))).scalars())
    for demo in CUSTOMERS:
        phones = [normalise(p) or p for p in demo.phones]
        if phones[0] in known:
            continue
        customer = Customer(
            phone=phones[0],
            name=demo.name,
            tier=demo.tier,
            company=demo.company,
            city=demo.city,
            language=demo.language,
            agreement=demo.agreement,
            home_office=demo.home_office,
            dedicated_agent=demo.dedicated_agent,
            credit=demo.credit,
            notes=demo.notes,
            tier_manual=demo.kept,
        )
        customer.phones = [
            CustomerPhone(number=p, is_primary=i == 0) for i, p in enumerate(phones) if i == 0 or p not in known
        ]
        customer.addresses = [
            CustomerAddress(label=label, text=text, postal_code=code, city=demo.city)
            for label, text, code in demo.addresses
        ]
        if demo.kept:
            customer.grades = [
                GradeChange(new_tier=demo.tier, reason="set by hand: demo customer", by="demo", manual=True, at=now)
            ]
        session.add(customer)
