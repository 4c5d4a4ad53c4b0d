"""Routing decisions among 1 M customers, on a throwaway PostgreSQL cluster (127.0.0.1 only, removed at the end).

``--customers`` customers (bench.customers' loader) of every tier, a fifth with a dedicated agent, and one
answered call each for ``--served`` of them (the sticky agent's history). ``--decisions`` decisions for random
customers through the ACD's router, the card in hand as the IVR gives it: the first pass meets a cold
sticky-agent cache (each customer's history asked once, bounded), the second the same customers again; then
the cache is loaded in one pass as the controller does at start, and other customers are decided in memory.
Each decision is also recorded through a real outbox (in the background: not part of the decision's time).
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import tempfile
import time
from pathlib import Path

import asyncpg
from sqlalchemy import func, select

from acd.decisions import DECISION_KIND, DecisionRecord, store_decisions
from acd.interface import RoutingRequest
from acd.models import RoutingDecisionRow
from acd.queues import Queues
from acd.router import AcdRouter
from acd.rules import RoutingRules
from acd.sticky import StickyAgents
from bench.customers import free_port, load_customers
from cms.history import InteractionHistory
from crm_bridge.schemas import CustomerCard
from hotline.db import Database
from hotline.migrate import upgrade
from hotline.outbox import Outbox
from hotline.pgcluster import LocalCluster

TIERS = ["walk_in", "regular", "mid", "vip", "key_account"]
AGENTS = [str(1001 + i) for i in range(10)]
INTENTS = ["tracking", "pickup", "complaint", "agent", "claim"]


async def load_history(url: str, served: int, customers: int) -> float:
    """One answered call, by one of the agents, for ``served`` customers spread over the id range."""
    started = time.perf_counter()
    conn = await asyncpg.connect(url.replace("+asyncpg", ""))
    try:
        step = max(1, customers // served)
        await conn.execute(
            "INSERT INTO interactions (call_id, customer_id, agent, started_at, outcome, priority, source)"
            " SELECT 'h' || g, g, (1001 + g % 10)::text, now() - (g % 20) * interval '1 day', 'answered', 0, 'live'"
            " FROM generate_series(1, $1::int, $2::int) g",
            customers,
            step,
        )
        await conn.execute("VACUUM ANALYZE interactions")
    finally:
        await conn.close()
    return time.perf_counter() - started


def card(i: int) -> CustomerCard:
    return CustomerCard(
        id=i,
        name=f"Customer {i}",
        phone=f"+86135{i:08d}",
        tier=TIERS[i % len(TIERS)],
        language="en" if i % 17 == 0 else "zh",
        dedicated_agent=AGENTS[i % 10] if i % 5 == 0 else None,
    )


async def decisions(router: AcdRouter, ids: list[int]) -> list[float]:
    samples = []
    for n, i in enumerate(ids):
        request = RoutingRequest(
            call_id=f"b{n}-{i}", customer=card(i), intent=INTENTS[i % len(INTENTS)], queue="support"
        )
        t = time.perf_counter()
        await router.decide(request)
        samples.append((time.perf_counter() - t) * 1000)
    return samples


def summary(samples: list[float]) -> str:
    s = sorted(samples)
    return f"p50 {statistics.median(s):.3f} ms, p99 {s[int(len(s) * 0.99) - 1]:.3f} ms, max {s[-1]:.3f} ms"


async def run(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory(prefix="hotline-bench-") as tmp:
        cluster = LocalCluster(Path(tmp), free_port(), throwaway=True)
        cluster.start()
        try:
            await cluster.ensure_database()
            url = f"postgresql+asyncpg://hotline@127.0.0.1:{cluster.port}/hotline"
            await asyncio.to_thread(upgrade, url)
            loaded = await load_customers(url, 1, args.customers)
            print(f"loaded {args.customers} customers in {loaded:.0f} s")
            took = await load_history(url, args.served, args.customers)
            print(f"history: one served call for {args.served} customers in {took:.1f} s")
            db = Database(url)
            outbox = Outbox(Path(tmp) / "outbox.sqlite3", db)
            outbox.register(DECISION_KIND, DecisionRecord, store_decisions)
            await outbox.start()
            queues = Queues.load()
            rules = RoutingRules.load(queues=queues.names())
            history = InteractionHistory(db)
            sticky = StickyAgents(lambda: history, rules.sticky.days)
            free = set(AGENTS[::2])  # half the agents free
            router = AcdRouter(rules, queues, free.__contains__, sticky, outbox)
            rng = random.Random(11)
            ids = [rng.randint(1, args.customers) for _ in range(args.decisions)]
            cold = await decisions(router, ids)
            print(f"decisions, cold sticky cache ({sticky.misses} history look-ups): {summary(cold)}")
            warm = await decisions(router, ids)
            print(f"decisions, the same customers again (cached): {summary(warm)}")
            t = time.perf_counter()
            count = await sticky.load()
            print(f"sticky agents loaded as at start: {count} customers in {time.perf_counter() - t:.1f} s")
            fresh = [rng.randint(1, args.customers) for _ in range(args.decisions)]
            asked = sticky.misses
            loaded = await decisions(router, fresh)
            print(f"decisions, other customers after the load ({sticky.misses - asked} look-ups): {summary(loaded)}")
            await router.settle()
            started = time.perf_counter()
            for _ in range(600):  # at most a minute
                if not outbox.stats.pending:
                    break
                await asyncio.sleep(0.1)
            async with db.session() as s:
                stored = (await s.execute(select(func.count()).select_from(RoutingDecisionRow))).scalar_one()
            print(f"decisions stored: {stored} (outbox drained {time.perf_counter() - started:.1f} s after the last)")
            await outbox.stop()
            await db.close()
        finally:
            cluster.destroy()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--served", type=int, default=200_000)
    parser.add_argument("--decisions", type=int, default=5000)
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
