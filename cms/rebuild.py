"""Recount the reports of a period: ``python -m cms.rebuild --since 2026-11-01T00:00+08:00 --until
2026-12-01T00:00+08:00 [--facts]``. ``--facts`` derives the calls' facts again from the stored rows first
(after a change of thresholds or definitions); without it only the 15-minute aggregates are recounted from
the facts. Idempotent: running it twice gives the same rows."""

from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import datetime

from cms.aggregates import Aggregator
from cms.factbuilder import FactBuilder
from cms.facts import INTERVAL, bucket_of
from cms.report_config import ReportConfig
from hotline.config import load_settings
from hotline.db import Database


async def rebuild(db: Database, config: ReportConfig, since: datetime, until: datetime, facts: bool) -> int:
    """Recount [since, until) (widened to whole 15-minute intervals); returns the calls derived again."""
    since = bucket_of(since)
    if bucket_of(until) != until:
        until = bucket_of(until) + INTERVAL
    derived = await FactBuilder(db, config).rebuild(since, until) if facts else 0
    await Aggregator(db, config.timezone).rebuild(since, until)
    return derived


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m cms.rebuild", description=__doc__)
    p.add_argument("--since", type=datetime.fromisoformat, required=True)
    p.add_argument("--until", type=datetime.fromisoformat, required=True)
    p.add_argument("--facts", action="store_true", help="derive the calls' facts again first")
    args = p.parse_args(argv)
    if args.since.tzinfo is None or args.until.tzinfo is None:
        p.error("--since and --until need a time zone offset")

    async def go() -> int:
        db = Database(load_settings().db_url)
        try:
            return await rebuild(db, ReportConfig.load(), args.since, args.until, args.facts)
        finally:
            await db.close()

    print(f"rebuilt; calls derived again: {asyncio.run(go())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
