"""The screen-pop's data at scale, on a throwaway PostgreSQL cluster (127.0.0.1 only, removed at the end).

Loaded: ``--customers`` customers with two numbers each, ``--per-customer`` shipments each (10 M by
default), an open work order for one customer in ``--orders-every``, and ``--contacts`` past interactions
spread over the customers. Then, for ``--lookups`` random callers (primary or second number), one after
the other, through the services the controller uses:

- the card by phone alone (``CustomerDirectory.card_by_phone``);
- the full pop data: the card, then side by side its recent contacts, recent shipments (last scan,
  exception) and open work orders (SLA clock) (``cti.extras.ExtrasLoader`` over the real services).

Prints p50 / p99 / max of each and the ratio full / card. Goal: full pop p99 under 5 ms.

    python -m bench.popdata [--customers 1000000] [--per-customer 10] [--lookups 3000]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg

from bench.customers import free_port, load_customers
from cms.history import InteractionHistory
from crm_bridge.service import CustomerDirectory
from cti.extras import ExtrasLoader
from hotline.bus import EventBus
from hotline.db import Database
from hotline.migrate import upgrade
from hotline.pgcluster import LocalCluster
from shipments.bulk import load_shipments
from shipments.services.tracking import ShipmentService
from workorders.policy import Policy
from workorders.services.desk import WorkOrderService


async def load_orders_and_contacts(url: str, customers: int, orders_every: int, contacts: int) -> float:
    started = time.perf_counter()
    conn = await asyncpg.connect(url.replace("+asyncpg", ""))
    try:
        await conn.execute(
            "INSERT INTO work_orders (type, department, subject, customer_id, customer_tier, waybill, status, "
            "opened_by, opened_at, updated_at, sla_seconds, sla_near_at, sla_due_at, escalation_level, reopen_count) "
            "SELECT 'delivery_urging', 'customer_service', 'Where is my parcel ' || g, g, 'walk_in', NULL, "
            "CASE WHEN g % 3 = 0 THEN 'in_progress' ELSE 'open' END, '1001', now() - interval '2 hours', now(), "
            "86400, now() + interval '17 hours', now() + interval '22 hours', 0, 0 "
            "FROM generate_series(1, $1::int, $2::int) g",
            customers,
            orders_every,
        )
        await conn.execute(
            "INSERT INTO interactions (call_id, caller, dialed, customer_id, outcome, agent, intent, started_at, "
            "priority, source) "
            "SELECT 'bench.' || g, '+86135' || lpad((1 + g % $2::int)::text, 8, '0'), '11183', 1 + g % $2::int, "
            "'answered', '1001', 'tracking', now() - (g % 100000) * interval '1 minute', 0, 'live' "
            "FROM generate_series(1, $1::int) g",
            contacts,
            customers,
        )
        for table in ("work_orders", "interactions"):
            await conn.execute(f"VACUUM ANALYZE {table}")
    finally:
        await conn.close()
    return time.perf_counter() - started


def percentiles(samples: list[float]) -> tuple[float, float, float]:
    samples = sorted(samples)
    return statistics.median(samples), samples[int(len(samples) * 0.99) - 1], samples[-1]


@dataclass
class Measured:
    card_ms: list[float] = field(default_factory=list)  # wall time, card alone
    full_ms: list[float] = field(default_factory=list)  # wall time, card and the rest of the pop
    card_cpu: float = 0.0  # this process's CPU seconds in the card look-ups (PostgreSQL's own is not counted)
    extras_cpu: float = 0.0  # and in the rest of the pop


async def measure(db: Database, customers: int, lookups: int) -> Measured:
    directory = CustomerDirectory(db)
    extras = ExtrasLoader(
        history=InteractionHistory(db),
        shipments=ShipmentService(db, EventBus()),
        work_orders=WorkOrderService(db, EventBus(), Policy.load(), lambda: directory),
        timeout=5.0,
    )
    rng = random.Random(11)
    m = Measured()
    for round_ in range(lookups + lookups // 10):  # the first tenth warms the pool and the caches
        i = rng.randint(1, customers)
        number = f"{'135' if i % 2 else '136'}{i:08d}"
        t, c = time.perf_counter(), time.thread_time()
        card = await directory.card_by_phone(number)
        t_card, c_card = time.perf_counter(), time.thread_time()
        assert card is not None and card.id == i, (number, card)
        pop = await extras.load(card.id)
        t_full, c_full = time.perf_counter(), time.thread_time()
        assert not pop.missing and len(pop.shipments) == 5, pop.missing
        if round_ >= lookups // 10:
            m.card_ms.append((t_card - t) * 1000)
            m.full_ms.append((t_full - t) * 1000)
            m.card_cpu += c_card - c
            m.extras_cpu += c_full - c_card
    return m


async def run(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory(prefix="hotline-bench-") as tmp:
        cluster = LocalCluster(Path(tmp), free_port(), throwaway=True)
        cluster.start()
        try:
            await cluster.ensure_database()
            url = f"postgresql+asyncpg://hotline@127.0.0.1:{cluster.port}/hotline"
            await asyncio.to_thread(upgrade, url)
            loaded = await load_customers(url, 1, args.customers)
            print(f"loaded {args.customers} customers (2 numbers each) in {loaded:.0f} s")
            shipments = await load_shipments(
                url.replace("+asyncpg", ""), range(1, args.customers + 1), args.per_customer, rebuild_indexes=True
            )
            print(f"loaded {shipments.rows} shipments in {shipments.seconds:.0f} s ({shipments.rate:.0f} rows/s)")
            extra = await load_orders_and_contacts(url, args.customers, args.orders_every, args.contacts)
            orders = args.customers // args.orders_every
            print(f"loaded {orders} open work orders, {args.contacts} contacts in {extra:.0f} s")
            db = Database(url)
            m = await measure(db, args.customers, args.lookups)
            await db.close()
            card, full = percentiles(m.card_ms), percentiles(m.full_ms)
            print(f"pop data, {args.lookups} callers one after the other:")
            print(f"  card by phone   p50 {card[0]:.2f} ms  p99 {card[1]:.2f} ms  max {card[2]:.2f} ms")
            print(f"  full pop data   p50 {full[0]:.2f} ms  p99 {full[1]:.2f} ms  max {full[2]:.2f} ms  (goal p99 < 5)")
            print(f"  full / card      p50 {full[0] / card[0]:.2f}  p99 {full[1] / card[1]:.2f}")
            n = len(m.card_ms)
            print(
                f"  controller CPU per pop: card {m.card_cpu / n * 1000:.2f} ms, the rest (contacts, shipments,"
                f" work orders) {m.extras_cpu / n * 1000:.2f} ms"
            )
        finally:
            cluster.destroy()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--per-customer", type=int, default=10)
    parser.add_argument("--orders-every", type=int, default=4)
    parser.add_argument("--contacts", type=int, default=2_000_000)
    parser.add_argument("--lookups", type=int, default=3000)
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
