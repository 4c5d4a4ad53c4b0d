"""Demo data: ten agents and a handful of customers (idempotent: safe to load on every start)."""

from __future__ import annotations

from sqlalchemy import select

from acd.models import Agent
from crm_bridge.models import Customer, Ticket, TicketStatus, Tier
from crm_bridge.phones import normalise
from hotline.auth import hash_password
from hotline.db import Database

AGENT_NAMES = [
    "Wang Fang",
    "Li Wei",
    "Zhang Min",
    "Liu Yang",
    "Chen Jing",
    "Yang Lei",
    "Zhao Qiang",
    "Huang Li",
    "Zhou Jie",
    "Wu Xia",
]

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


def demo_agent_password(extension: str) -> str:
    return f"agent{extension}"


def demo_sip_password(extension: str) -> str:
    return f"sip{extension}"


async def load_demo_data(db: Database) -> None:
    async with db.session() as s:
        known = set((await s.execute(select(Agent.extension))).scalars())
        for i, name in enumerate(AGENT_NAMES):
            ext = str(1001 + i)
            if ext not in known:
                s.add(
                    Agent(
                        extension=ext,
                        name=name,
                        password_hash=hash_password(demo_agent_password(ext)),
                        sip_password=demo_sip_password(ext),
                    )
                )
        phones = set((await s.execute(select(Customer.phone))).scalars())
        for raw, name, tier, company, city, tickets in CUSTOMERS:
            phone = normalise(raw) or raw
            if phone in phones:
                continue
            customer = Customer(phone=phone, name=name, tier=tier, company=company, city=city)
            customer.tickets = [
                Ticket(kind=k, subject=subj, waybill=wb, status=TicketStatus.open) for k, subj, wb in tickets
            ]
            s.add(customer)
        await s.commit()
