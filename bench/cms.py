"""CMS reports at scale, on a throwaway PostgreSQL cluster (127.0.0.1 only, removed at the end):

- ``--calls`` calls over one month (30 days from 2026-10-01 UTC, 10 queues, 100 agents) as interaction rows and
  ten queue_log lines each (ENTERQUEUE, RINGNOANSWER…, CONNECT, COMPLETECALLER or ABANDON, PAUSE/UNPAUSE:
  10 M lines for 1 M calls), and the agents' state spans (5-minute spans all month), all made inside
  PostgreSQL with generate_series;
- the facts of ``--derive`` of those calls through the real incremental path (cms.factbuilder: inputs read
  from interactions + queue_log + spans, derived, upserted, FCR, dirty marks; then cms.aggregates' flush):
  the cost per call; then runs of 10 of those calls as the controller's job makes them under live traffic
  (the controller's CPU per run); the other calls' facts are written by one INSERT … SELECT from their
  interaction rows;
- the aggregates of the whole month rebuilt from the facts (cms.aggregates.rebuild);
- report queries (cms.reporting.Reports.summary, every grouping) for the month and for one day:
  p50 / p99 over ``--repeats``.

    python -m bench.cms [--calls 1000000] [--derive 20000] [--repeats 30]
"""

from __future__ import annotations

import argparse
import asyncio
import socket
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg

from cms.aggregates import Aggregator
from cms.factbuilder import BATCH, FactBuilder
from cms.report_config import ReportConfig
from cms.reporting import GroupBy, Reports
from hotline.db import Database
from hotline.migrate import upgrade
from hotline.pgcluster import LocalCluster

MONTH = (datetime(2026, 10, 1, tzinfo=UTC), datetime(2026, 10, 31, tzinfo=UTC))
DAY = (datetime(2026, 10, 15, 16, tzinfo=UTC), datetime(2026, 10, 16, 16, tzinfo=UTC))  # a Shanghai day
STEP = 100_000
TZ = ReportConfig.load().timezone
AGENTS = 100

CALLS_SQL = """
INSERT INTO interactions (call_id, caller, queue, agent, started_at, queued_at, answered_at, ended_at,
                          wait_seconds, talk_seconds, outcome, source, self_service)
SELECT 'b' || g, '+86138' || lpad((g % 200000)::text, 8, '0'), 'q' || (g % 10),
    CASE WHEN g % 13 = 0 THEN NULL ELSE (1000 + g % $3)::text END,
    t, t + interval '20 s',
    CASE WHEN g % 13 = 0 THEN NULL ELSE t + interval '20 s' + (g * 7 % 60) * interval '1 s' END,
    t + interval '20 s' + (g * 7 % 60 + 60 + g * 13 % 300) * interval '1 s',
    g * 7 % 60, CASE WHEN g % 13 = 0 THEN NULL ELSE 60 + g * 13 % 300 END,
    CASE WHEN g % 13 = 0 THEN 'abandoned' ELSE 'answered' END, 'live', g % 4 = 0
FROM generate_series($1::int, $2::int) g,
     LATERAL (SELECT TIMESTAMPTZ '2026-10-01 00:00:00+00' + (g - 1) * ($4::float8 * interval '1 s')) AS x(t)
"""

# ten lines per call: k = 1 ENTERQUEUE, 2–6 RINGNOANSWER, 7 CONNECT (answered) / RINGNOANSWER, 8 COMPLETECALLER /
# ABANDON, 9–10 an agent's PAUSE / UNPAUSE
LINES_SQL = """
INSERT INTO queue_log (time, callid, queue, agent, event, data1, data2, data3, src_inode, src_offset)
SELECT i.queued_at + k * interval '1 s', i.call_id, i.queue,
    CASE WHEN k IN (1, 8) AND i.answered_at IS NULL THEN 'NONE' ELSE 'PJSIP/' || (1000 + (g + k) % $3) END,
    CASE WHEN k = 1 THEN 'ENTERQUEUE'
         WHEN k = 7 AND i.answered_at IS NOT NULL THEN 'CONNECT'
         WHEN k = 8 AND i.answered_at IS NOT NULL THEN 'COMPLETECALLER'
         WHEN k = 8 THEN 'ABANDON'
         WHEN k = 9 THEN 'PAUSE' WHEN k = 10 THEN 'UNPAUSE'
         ELSE 'RINGNOANSWER' END,
    CASE WHEN k = 7 OR k = 8 THEN i.wait_seconds::text WHEN k = 1 THEN '' ELSE '15000' END,
    CASE WHEN k = 8 AND i.answered_at IS NOT NULL THEN i.talk_seconds::text WHEN k = 7 THEN 'x' ELSE '1' END,
    CASE WHEN k = 8 THEN i.wait_seconds::text ELSE '2' END,
    1, g * 10 + k
FROM generate_series($1::int, $2::int) g
JOIN interactions i ON i.call_id = 'b' || g
CROSS JOIN generate_series(1, 10) k
"""

SPANS_SQL = """
INSERT INTO cms_agent_states (agent, state, started_at, ended_at)
SELECT (1000 + a)::text,
    (ARRAY['available', 'on_call', 'on_hold', 'on_call', 'wrap_up', 'available', 'paused', 'ringing'])[1 + s % 8],
    TIMESTAMPTZ '2026-10-01 00:00:00+00' + s * interval '5 min',
    TIMESTAMPTZ '2026-10-01 00:00:00+00' + (s + 1) * interval '5 min'
FROM generate_series(0, $1::int - 1) a, generate_series(0, 30 * 288 - 1) s
"""

FACTS_SQL = """
INSERT INTO cms_call_facts (call_id, bucket, queue, agent, contact_key, started_at, queued_at, answered_at, ended_at,
    offered, answered, abandoned, short_abandon, in_sl, wait_s, ring_s, talk_s, hold_s, acw_s, transfers,
    ivr_known, ivr_contained, repeated, csat, source)
SELECT call_id, date_bin('15 minutes', queued_at, TIMESTAMPTZ '2000-01-01 00:00:00+00'), queue, coalesce(agent, ''),
    'number:' || caller, started_at, queued_at, answered_at, ended_at,
    true, answered_at IS NOT NULL, answered_at IS NULL, answered_at IS NULL AND wait_seconds < 5,
    wait_seconds <= 20 AND (answered_at IS NOT NULL OR wait_seconds >= 5), wait_seconds,
    CASE WHEN answered_at IS NOT NULL THEN 2 END, talk_seconds, CASE WHEN answered_at IS NOT NULL THEN 0 END,
    CASE WHEN answered_at IS NOT NULL THEN 30 END, 0, true, self_service, id % 5 = 0,
    CASE WHEN id % 3 = 0 THEN 1 + id % 5 END, source
FROM interactions WHERE id > $1
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def generate(url: str, calls: int) -> None:
    conn = await asyncpg.connect(url.replace("+asyncpg", ""))
    seconds_apart = (MONTH[1] - MONTH[0]).total_seconds() / calls
    try:
        t = time.perf_counter()
        for low in range(1, calls + 1, STEP):
            high = min(calls, low + STEP - 1)
            await conn.execute(CALLS_SQL, low, high, AGENTS, seconds_apart)
        print(f"  {calls} interactions in {time.perf_counter() - t:.0f} s", flush=True)
        t = time.perf_counter()
        for low in range(1, calls + 1, STEP):
            high = min(calls, low + STEP - 1)
            await conn.execute(LINES_SQL, low, high, AGENTS)
        print(f"  {calls * 10} queue_log lines in {time.perf_counter() - t:.0f} s", flush=True)
        t = time.perf_counter()
        await conn.execute(SPANS_SQL, AGENTS)
        print(f"  {AGENTS * 30 * 288} agent state spans in {time.perf_counter() - t:.0f} s", flush=True)
        for table in ("interactions", "queue_log", "cms_agent_states"):
            await conn.execute(f"VACUUM ANALYZE {table}")
    finally:
        await conn.close()


SMALL_RUNS, SMALL_RUN = 50, 10  # the reports' job under live traffic: a run every 10 s takes about 10 calls


async def runs_as_live(builder: FactBuilder, aggregator: Aggregator, ids: list[str]) -> None:
    """Runs of ``SMALL_RUN`` calls (their facts derived again, their rows recounted), as the controller's job
    makes them at 1 call/s: the Python side's CPU per run, which the controller pays (PostgreSQL's is apart)."""
    if len(ids) < SMALL_RUN:
        return
    runs: list[float] = []
    for i in range(0, len(ids) - SMALL_RUN + 1, SMALL_RUN):
        t = time.thread_time()
        await builder.build_now(ids[i : i + SMALL_RUN])
        await aggregator.flush()
        runs.append((time.thread_time() - t) * 1e3)
    median = statistics.median(runs)
    print(
        f"as live, {len(runs)} runs of {SMALL_RUN} calls (derive + aggregate), the controller's CPU per run: "
        f"median {median:.1f} ms ({median / SMALL_RUN:.2f} ms per call), mean {statistics.mean(runs):.1f} ms",
        flush=True,
    )


async def derive_sample(db: Database, url: str, sample: int) -> None:
    """The incremental path for the first ``sample`` calls (derive + aggregate), then every other call's facts
    by one INSERT … SELECT."""
    builder, aggregator = FactBuilder(db, ReportConfig.load()), Aggregator(db, TZ)
    ids = [f"b{g}" for g in range(1, sample + 1)]
    t = time.perf_counter()
    for i in range(0, len(ids), BATCH):
        await builder.build_now(ids[i : i + BATCH])
    derived = time.perf_counter() - t
    t = time.perf_counter()
    keys = await aggregator.flush()
    flushed = time.perf_counter() - t
    print(
        f"incremental path, {sample} calls in batches of {BATCH}: derive {derived * 1e3 / sample:.2f} ms/call, "
        f"aggregate {flushed * 1e3 / sample:.3f} ms/call ({keys} interval keys), "
        f"total {(derived + flushed) * 1e3 / sample:.2f} ms/call",
        flush=True,
    )
    await runs_as_live(builder, aggregator, ids[: SMALL_RUNS * SMALL_RUN])
    conn = await asyncpg.connect(url.replace("+asyncpg", ""))
    try:
        t = time.perf_counter()
        await conn.execute(FACTS_SQL, sample)
        await conn.execute("VACUUM ANALYZE cms_call_facts")
        print(f"  remaining facts written in one statement in {time.perf_counter() - t:.0f} s", flush=True)
    finally:
        await conn.close()


async def timed(reports: Reports, period: tuple[datetime, datetime], by: GroupBy, repeats: int) -> tuple[float, float]:
    samples = []
    for _ in range(repeats):
        t = time.perf_counter()
        report = await reports.summary(*period, None, by)
        samples.append((time.perf_counter() - t) * 1000)
        assert report.total.offered > 0
    samples.sort()
    return statistics.median(samples), samples[max(0, int(len(samples) * 0.99) - 1)]


async def run(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory(prefix="hotline-bench-") as tmp:
        cluster = LocalCluster(Path(tmp), free_port(), throwaway=True)
        cluster.start()
        try:
            await cluster.ensure_database()
            url = f"postgresql+asyncpg://hotline@127.0.0.1:{cluster.port}/hotline"
            await asyncio.to_thread(upgrade, url)
            print(f"generating {args.calls} calls, {args.calls * 10} queue events over a month", flush=True)
            await generate(url, args.calls)
            db = Database(url)
            await derive_sample(db, url, min(args.derive, args.calls))
            t = time.perf_counter()
            await Aggregator(db, TZ).rebuild(MONTH[0] - timedelta(days=1), MONTH[1] + timedelta(days=1))
            print(f"aggregates of the month rebuilt from the facts in {time.perf_counter() - t:.1f} s", flush=True)
            reports = Reports(db, ReportConfig.load())
            for name, period in (("month", MONTH), ("day", DAY)):
                for by in GroupBy:
                    p50, p99 = await timed(reports, period, by, args.repeats)
                    print(f"report {name} by {by.value}: p50 {p50:.1f} ms, p99 {p99:.1f} ms", flush=True)
            await db.close()
        finally:
            cluster.destroy()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=1_000_000)
    parser.add_argument("--derive", type=int, default=20_000)
    parser.add_argument("--repeats", type=int, default=30)
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
