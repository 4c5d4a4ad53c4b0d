"""A throwaway PostgreSQL cluster for the integration tests, migrated to head once per session."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from hotline.db import Database
from hotline.migrate import upgrade
from hotline.pgcluster import LocalCluster


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def pg_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCluster]:
    """The session's cluster itself, for tests that stop, restart or freeze the database."""
    cluster = LocalCluster(Path(tmp_path_factory.mktemp("pg")), _free_port(), throwaway=True)
    cluster.start()
    try:
        yield cluster
    finally:
        cluster.destroy()


@pytest.fixture(scope="session")
def pg_url(pg_cluster: LocalCluster) -> str:
    asyncio.run(pg_cluster.ensure_database())
    url = f"postgresql+asyncpg://hotline@127.0.0.1:{pg_cluster.port}/hotline"
    upgrade(url)
    return url


TABLES = (
    "qa_marks",
    "qa_evaluations",
    "qa_samples",
    "qa_criteria",
    "qa_forms",
    "cms_call_facts",
    "cms_agent_states",
    "cms_surveys",
    "cms_fact_pending",
    "cms_dirty",
    "cms_queue_intervals",
    "cms_agent_intervals",
    "cms_agent_state_intervals",
    "cms_queue_days",
    "cms_agent_days",
    "cms_agent_state_days",
    "cms_floor_state_intervals",
    "supervision_log",
    "supervisor_phones",
    "ivr_visits",
    "ivr_surveys",
    "routing_decisions",
    "callbacks",
    "dispositions",
    "pickup_history",
    "pickups",
    "scan_events",
    "shipments",
    "station_postal_codes",
    "station_holidays",
    "station_hours",
    "stations",
    "queue_log",
    "queue_log_offsets",
    "queue_log_rejects",
    "recording_access",
    "user_sessions",
    "users",
    "interactions",
    "call_legs",
    "recordings",
    "revisits",
    "work_order_recordings",
    "work_order_calls",
    "work_order_history",
    "work_orders",
    "customer_grading_runs",
    "customer_grade_history",
    "customer_addresses",
    "customer_phones",
    "customers",
    "agent_state_log",
    "agents",
)


@pytest.fixture
async def db(pg_url: str) -> AsyncIterator[Database]:
    database = Database(pg_url)
    async with database.engine.begin() as conn:
        await conn.execute(text(f"TRUNCATE {', '.join(TABLES)} RESTART IDENTITY CASCADE"))
    yield database
    await database.close()
