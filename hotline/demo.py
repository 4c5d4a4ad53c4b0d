"""Demo data, for demo mode only: ten agents, a supervisor and an admin with known passwords (all
demo-flagged, so a production start disables them), and a handful of customers. Idempotent."""

from __future__ import annotations

from sqlalchemy import select, update

from acd.models import Agent
from crm_bridge.models import Customer, Ticket, TicketStatus, Tier
from hotline.auth import Passwords, Role
from hotline.auth.models import User
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


DEMO_QUEUE = "support"
# username → (display name, password, roles, supervised queues)
STAFF: dict[str, tuple[str, str, list[Role], list[str]]] = {
    "demo-supervisor": ("Demo Supervisor", "demo-supervisor", [Role.supervisor], [DEMO_QUEUE]),
    "demo-admin": ("Demo Admin", "demo-admin", [Role.admin], []),
}


def demo_agent_password(extension: str) -> str:
    return f"agent{extension}"


def demo_sip_password(extension: str) -> str:
    return f"sip{extension}"


def demo_extensions() -> list[str]:
    return [str(1001 + i) for i in range(len(AGENT_NAMES))]


_hashes: dict[tuple[str, object], str] = {}


async def _hash(passwords: Passwords, password: str) -> str:
    """Demo passwords are hashed once per process and cost (loading the demo again is then instant)."""
    key = (password, passwords.cost)
    if key not in _hashes:
        _hashes[key] = await passwords.ahash(password)
    return _hashes[key]


async def load_demo_data(db: Database, passwords: Passwords | None = None) -> None:
    passwords = passwords or Passwords()
    async with db.session() as s:
        users = {u.username: u for u in (await s.execute(select(User))).scalars()}
        wanted: dict[str, tuple[str, str, list[Role], list[str]]] = {
            ext: (name, demo_agent_password(ext), [Role.agent], [])
            for ext, name in zip(demo_extensions(), AGENT_NAMES, strict=True)
        } | STAFF
        for username, (display, password, roles, queues) in wanted.items():
            if username not in users:
                users[username] = User(
                    username=username,
                    display_name=display,
                    password_hash=await _hash(passwords, password),
                    roles=[r.value for r in roles],
                    supervised_queues=queues,
                    disabled=False,
                    demo=True,
                )
                s.add(users[username])
        await s.flush()
        # demo mode: demo users disabled by an earlier production start work again
        await s.execute(update(User).where(User.demo.is_(True)).values(disabled=False))
        known = set((await s.execute(select(Agent.extension))).scalars())
        for ext, name in zip(demo_extensions(), AGENT_NAMES, strict=True):
            if ext not in known:
                s.add(Agent(extension=ext, name=name, user_id=users[ext].id, sip_password=demo_sip_password(ext)))
        phones = set((await s.execute(select(Customer.phone))).scalars())
        for phone, name, tier, company, city, tickets in CUSTOMERS:
            if phone in phones:
                continue
            customer = Customer(phone=phone, name=name, tier=tier, company=company, city=city)
            customer.tickets = [
                Ticket(kind=k, subject=subj, waybill=wb, status=TicketStatus.open) for k, subj, wb in tickets
            ]
            s.add(customer)
        await s.commit()
