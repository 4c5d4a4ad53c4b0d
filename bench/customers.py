"""Customers at scale, on a throwaway PostgreSQL cluster (127.0.0.1 only, removed at the end):

- the card by phone (any of a customer's numbers) among ``--customers`` customers with two numbers
  each: p50 / p99 over ``--lookups`` look-ups through ``CustomerDirectory.card_by_phone``;
- a grading pass over ``--grade`` customers (shipment volumes from an in-memory source): customers/s;
- the CSV import of ``--import-rows`` rows in one transaction: rows/s.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import socket
import statistics
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import asyncpg

from crm_bridge.grading import Grader, GradingRules
from crm_bridge.importer import CustomerImporter
from crm_bridge.service import CustomerDirectory
from hotline.bus import EventBus
from hotline.db import Database
from hotline.migrate import upgrade
from hotline.pgcluster import LocalCluster

STEP = 100_000


@dataclass(frozen=True)
class Volume:
    parcels: int
    revenue: Decimal


async def volumes(ids: Sequence[int], since: datetime, until: datetime) -> dict[int, Volume]:
    return {i: Volume(i % 40, Decimal(i % 7000)) for i in ids}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def load_customers(url: str, first: int, n: int) -> float:
    """Bulk rows straight through asyncpg (the controller's engine bounds each statement at 10 s)."""
    started = time.perf_counter()
    conn = await asyncpg.connect(url.replace("+asyncpg", ""))
    try:
        for low in range(first, n + 1, STEP):
            high = min(n, low + STEP - 1)
            await conn.execute(
                "INSERT INTO customers (name, phone, tier, company, city) SELECT 'Customer ' || g, "
                "'+86135' || lpad(g::text, 8, '0'), 'walk_in', "
                "CASE WHEN g % 5 = 0 THEN 'Company ' || (g / 5) END, 'City' FROM generate_series($1::int, $2::int) g",
                low,
                high,
            )
            await conn.execute(
                "INSERT INTO customer_phones (customer_id, number, is_primary) "
                "SELECT id, phone, true FROM customers WHERE id BETWEEN $1 AND $2 "
                "UNION ALL SELECT id, '+86136' || lpad(id::text, 8, '0'), false FROM customers "
                "WHERE id BETWEEN $1 AND $2",
                low,
                high,
            )
        await conn.execute("VACUUM ANALYZE customers")
        await conn.execute("VACUUM ANALYZE customer_phones")
    finally:
        await conn.close()
    return time.perf_counter() - started


async def lookups(db: Database, n: int, count: int) -> tuple[float, float, float]:
    directory = CustomerDirectory(db)
    rng = random.Random(7)
    samples = []
    for _ in range(count):
        i = rng.randint(1, n)
        number = f"{'135' if i % 2 else '136'}{i:08d}"  # the primary or the second number
        t = time.perf_counter()
        card = await directory.card_by_phone(number)
        samples.append((time.perf_counter() - t) * 1000)
        assert card is not None and card.id == i, (number, card)
    samples.sort()
    return statistics.median(samples), samples[int(len(samples) * 0.99) - 1], samples[-1]


async def grading(db: Database, count: int) -> float:
    grader = Grader(db, EventBus(), GradingRules.load(), lambda: datetime.now(UTC), volumes)
    started = time.perf_counter()
    run = await grader.grade_all("bench")
    elapsed = time.perf_counter() - started
    print(f"  grading pass: {run.customers} customers walked, {run.changed} changed, {elapsed:.1f} s")
    return elapsed


async def importing(db: Database, rows: int) -> float:
    lines = ["name,phone,phones,city,address,postal_code"] + [
        f"Imported {i},+86137{i:08d},+86139{i:08d},Wuhan,Road {i},430000" for i in range(rows)
    ]
    started = time.perf_counter()
    report = await CustomerImporter(db, lambda: datetime.now(UTC)).run("\n".join(lines).encode(), by="bench")
    assert report.imported == rows, report.rejected[:3]
    return time.perf_counter() - started


async def run(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory(prefix="hotline-bench-") as tmp:
        cluster = LocalCluster(Path(tmp), free_port(), throwaway=True)
        cluster.start()
        try:
            await cluster.ensure_database()
            url = f"postgresql+asyncpg://hotline@127.0.0.1:{cluster.port}/hotline"
            await asyncio.to_thread(upgrade, url)
            db = Database(url)
            await load_customers(url, 1, args.grade)
            elapsed = await grading(db, args.grade)  # a whole pass over the first ``--grade`` customers
            print(f"grading: {args.grade / elapsed:.0f} customers/s")
            loaded = await load_customers(url, args.grade + 1, args.customers)
            print(f"loaded {args.customers} customers (2 numbers each) in {loaded:.0f} s")
            p50, p99, worst = await lookups(db, args.customers, args.lookups)
            print(f"card by phone, {args.lookups} look-ups: p50 {p50:.2f} ms, p99 {p99:.2f} ms, max {worst:.2f} ms")
            elapsed = await importing(db, args.import_rows)
            print(f"import: {args.import_rows} rows in {elapsed:.1f} s, {args.import_rows / elapsed:.0f} rows/s")
            await db.close()
        finally:
            cluster.destroy()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--lookups", type=int, default=5000)
    parser.add_argument("--grade", type=int, default=20_000)
    parser.add_argument("--import-rows", type=int, default=50_000)
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
