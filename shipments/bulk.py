"""Bulk load of synthetic shipments for benchmarks: ``per_customer`` shipments for each customer.

The rows are generated inside PostgreSQL (``INSERT … SELECT … FROM generate_series``), in chunks spread over
``workers`` connections (one per core): measured against COPY from Python on this 2-core machine, 1 M rows
took 24–28 s by COPY (half of it building the rows in Python) and 13 s generated in the server on one
connection. Waybills are valid domestic numbers from consecutive serials (the Luhn digit computed in SQL,
checked against ``shipments.waybills`` by the tests); service, cities, weights, charges, a creation time
within the last ``days`` days and a status with its last scan (mostly delivered, some on the way, a few
exceptions) are drawn at random, so the denormalised columns look like a real table's. Scan events are not
generated (the screen-pop reads the denormalised columns).

With ``rebuild_indexes`` the secondary index is dropped for the load and built again after it (faster into
an empty table; the table is not usable meanwhile).

    python -m shipments.bulk --dsn postgresql://hotline@127.0.0.1:5433/hotline --per-customer 10
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass

import asyncpg

FIRST_SERIAL = 100_000_000_000  # domestic serials from here (demo data uses 7700…)
CHUNK = 250_000
SECONDARY_INDEXES = {
    "ix_shipments_sender_recent": "CREATE INDEX ix_shipments_sender_recent ON shipments "
    "(sender_customer_id, created_at, id)",
}


def luhn_sql(serial: str) -> str:
    """The Luhn check digit of a 12-digit bigint expression, in SQL (see ``waybills.luhn_check_digit``)."""
    terms = []
    for k in range(12):  # k = 0 is the payload's last digit, doubled
        digit = f"(({serial} / {10**k}::bigint) % 10)"
        terms.append(f"(2 * {digit} - 9 * ({digit} >= 5)::int)" if k % 2 == 0 else digit)
    return f"((10 - ({' + '.join(terms)}) % 10) % 10)"


CITIES = "ARRAY['Beijing','Shanghai','Shenzhen','Guangzhou','Hangzhou','Chengdu','Wuhan','Nanjing']"
POSTAL = "ARRAY['100020','200120','518052','510620','310000','610000','430000','210000']"
# $1 customer ids, $2 shipments per customer, $3 first row number, $4 rows, $5 first serial, $6 days
INSERT = f"""
INSERT INTO shipments (waybill, sender_customer_id, sender_name, sender_phone, receiver_name, origin_city,
    origin_postal_code, destination_city, destination_postal_code, service, weight_kg, charge, created_at,
    status, last_scan_kind, last_scan_place, last_scan_at, exception)
SELECT w.serial::text || {luhn_sql("w.serial")}::text,
       c.id, 'Customer', '+86139' || lpad((c.id % 100000000)::text, 8, '0'), 'Receiver',
       ({CITIES})[1 + o], ({POSTAL})[1 + o], ({CITIES})[1 + d], ({POSTAL})[1 + d],
       (ARRAY['standard','standard','standard','express','express','economy','international'])[1 + (g % 7)]
           ::shipment_service,
       round((0.1 + r * 30)::numeric, 3), round((8 + r * 190)::numeric, 2), t.created,
       st.status::shipment_status, st.kind::scan_kind,
       CASE WHEN st.kind IN ('delivered', 'out_for_delivery', 'at_station') THEN ({CITIES})[1 + d]
            ELSE ({CITIES})[1 + o] END,
       t.created + interval '20 hours', st.exception::shipment_exception
  FROM generate_series($3::bigint, $3::bigint + $4 - 1) AS g
 CROSS JOIN LATERAL (SELECT $5::bigint + g AS serial) AS w
 CROSS JOIN LATERAL (SELECT ($1::int[])[1 + g / $2] AS id) AS c
 CROSS JOIN LATERAL (SELECT random() AS r, (g % 8)::int AS o, ((g / 8 + g) % 8)::int AS d) AS x
 CROSS JOIN LATERAL (SELECT now() - random() * $6 * interval '1 day' AS created) AS t
 CROSS JOIN LATERAL (
     SELECT CASE WHEN r < 0.80 THEN 'delivered' WHEN r < 0.88 THEN 'in_transit' WHEN r < 0.92
                 THEN 'out_for_delivery' WHEN r < 0.95 THEN 'at_station' WHEN r < 0.97 THEN 'picked_up'
                 WHEN r < 0.995 THEN 'exception' ELSE 'delivered' END AS status,
            CASE WHEN r < 0.80 THEN 'delivered' WHEN r < 0.88 THEN 'in_transit' WHEN r < 0.92
                 THEN 'out_for_delivery' WHEN r < 0.95 THEN 'at_station' WHEN r < 0.97 THEN 'picked_up'
                 WHEN r < 0.995 THEN 'exception' ELSE 'delivered' END AS kind,
            CASE WHEN r >= 0.995 THEN 'damage' WHEN r >= 0.97 THEN
                 (ARRAY['delay','customs_delay','misroute','loss'])[1 + (g % 4)] END AS exception
 ) AS st
"""


@dataclass(frozen=True)
class LoadResult:
    rows: int
    seconds: float

    @property
    def rate(self) -> float:
        return self.rows / self.seconds if self.seconds else 0.0


async def load_shipments(
    dsn: str,
    customer_ids: Sequence[int],
    per_customer: int,
    *,
    first_serial: int = FIRST_SERIAL,
    days: int = 365,
    workers: int = 2,
    chunk: int = CHUNK,
    rebuild_indexes: bool = False,
) -> LoadResult:
    """Insert ``len(customer_ids) * per_customer`` shipments, ``chunk`` rows per statement over ``workers``
    connections; returns the count and the time taken (index rebuild and ANALYZE included)."""
    started = time.perf_counter()
    ids = list(customer_ids)
    total = len(ids) * per_customer
    chunks = asyncio.Queue[int]()
    for first in range(0, total, chunk):
        chunks.put_nowait(first)

    async def worker(conn: asyncpg.Connection) -> None:
        while not chunks.empty():
            first = chunks.get_nowait()
            await conn.execute(INSERT, ids, per_customer, first, min(chunk, total - first), first_serial, days)

    async with asyncpg.create_pool(dsn, min_size=workers, max_size=workers) as pool:
        async with pool.acquire() as conn:
            if rebuild_indexes:
                for name in SECONDARY_INDEXES:
                    await conn.execute(f"DROP INDEX IF EXISTS {name}")

        async def run() -> None:
            async with pool.acquire() as conn:
                await worker(conn)

        await asyncio.gather(*(run() for _ in range(workers)))
        async with pool.acquire() as conn:
            if rebuild_indexes:
                for ddl in SECONDARY_INDEXES.values():
                    await conn.execute(ddl)
            await conn.execute("ANALYZE shipments")
    return LoadResult(total, time.perf_counter() - started)


async def _main(args: argparse.Namespace) -> None:
    if args.customers:
        ids: Sequence[int] = range(1, args.customers + 1)
    else:
        conn = await asyncpg.connect(args.dsn)
        try:
            ids = [r["id"] for r in await conn.fetch("SELECT id FROM customers ORDER BY id")]
        finally:
            await conn.close()
    result = await load_shipments(
        args.dsn,
        ids,
        args.per_customer,
        first_serial=args.first_serial,
        workers=args.workers,
        rebuild_indexes=args.rebuild_indexes,
    )
    print(f"{result.rows} shipments in {result.seconds:.1f} s = {result.rate:,.0f} rows/s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dsn", required=True, help="postgresql://user@host:port/db")
    parser.add_argument("--per-customer", type=int, default=10)
    parser.add_argument("--customers", type=int, default=0, help="ids 1..N (default: every id in customers)")
    parser.add_argument("--first-serial", type=int, default=FIRST_SERIAL)
    parser.add_argument("--workers", type=int, default=2, help="connections inserting at once (one per core)")
    parser.add_argument("--rebuild-indexes", action="store_true", help="drop secondary indexes for the load")
    asyncio.run(_main(parser.parse_args()))


if __name__ == "__main__":
    main()
