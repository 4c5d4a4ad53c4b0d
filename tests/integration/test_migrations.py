from __future__ import annotations

import asyncio

import asyncpg

from hotline.migrate import downgrade, upgrade

EXPECTED = {
    "agents",
    "agent_state_log",
    "customers",
    "work_orders",
    "work_order_history",
    "work_order_calls",
    "work_order_recordings",
    "revisits",
    "customer_phones",
    "customer_addresses",
    "customer_grade_history",
    "customer_grading_runs",
    "queue_log",
    "queue_log_offsets",
    "queue_log_rejects",
    "interactions",
    "recordings",
    "call_legs",
    "users",
    "user_sessions",
    "recording_access",
    "pickups",
    "pickup_history",
    "shipments",
    "scan_events",
    "stations",
    "station_hours",
    "station_holidays",
    "station_postal_codes",
    "supervisor_phones",
    "supervision_log",
    "ivr_visits",
    "ivr_surveys",
    "routing_decisions",
    "callbacks",
    "dispositions",
    "qa_forms",
    "qa_criteria",
    "qa_samples",
    "qa_evaluations",
    "qa_marks",
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
}


async def _tables(url: str) -> set[str]:
    conn = await asyncpg.connect(url.replace("+asyncpg", ""))
    try:
        rows = await conn.fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        return {r["tablename"] for r in rows} - {"alembic_version"}
    finally:
        await conn.close()


async def test_schema_goes_down_and_up_again(pg_url: str) -> None:
    assert await _tables(pg_url) == EXPECTED
    await asyncio.to_thread(downgrade, pg_url, "base")
    assert await _tables(pg_url) == set()
    await asyncio.to_thread(upgrade, pg_url)
    assert await _tables(pg_url) == EXPECTED


async def test_models_and_migrations_agree(pg_url: str) -> None:
    """Every model change comes with its migration: autogenerate finds nothing left to do."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from sqlalchemy.ext.asyncio import create_async_engine

    from hotline.db import Base, import_all_models

    import_all_models()
    engine = create_async_engine(pg_url)
    try:
        async with engine.connect() as conn:
            diff = await conn.run_sync(
                lambda sync: compare_metadata(
                    MigrationContext.configure(sync, opts={"compare_type": True}), Base.metadata
                )
            )
    finally:
        await engine.dispose()
    assert diff == []


async def test_stored_phone_numbers_become_e164(pg_url: str) -> None:
    await asyncio.to_thread(downgrade, pg_url, "0003")
    conn = await asyncpg.connect(pg_url.replace("+asyncpg", ""))
    try:
        await conn.execute(
            "INSERT INTO customers (name, phone, tier) VALUES ('a', '13800138999', 'vip'), ('b', '02162345678', 'mid')"
        )
        await asyncio.to_thread(upgrade, pg_url)
        phones = {r["name"]: r["phone"] for r in await conn.fetch("SELECT name, phone FROM customers")}
        assert phones == {"a": "+8613800138999", "b": "+862162345678"}
        await conn.execute("DELETE FROM customers")
    finally:
        await conn.close()


async def test_existing_agents_become_users_whose_old_passwords_still_work(pg_url: str) -> None:
    """0004 on an install with agents: each becomes a user named after the extension, keeping the
    legacy hash; those still on the demo SIP password are flagged demo."""
    from hotline.auth import Passwords
    from hotline.auth.passwords import legacy_scrypt_hash

    await asyncio.to_thread(downgrade, pg_url, "0003a")
    conn = await asyncpg.connect(pg_url.replace("+asyncpg", ""))
    try:
        await conn.execute("TRUNCATE agents CASCADE")
        await conn.execute(
            "INSERT INTO agents (extension, name, password_hash, sip_password, state) VALUES "
            "('1001', 'Wang Fang', $1, 'sip1001', 'logged_out'), ('2001', 'Real Person', $2, 'Xk9-real', 'paused')",
            legacy_scrypt_hash("agent1001"),
            legacy_scrypt_hash("a real password"),
        )
        await asyncio.to_thread(upgrade, pg_url)
        rows = await conn.fetch(
            "SELECT u.username, u.display_name, u.password_hash, u.roles, u.demo, a.extension "
            "FROM agents a JOIN users u ON u.id = a.user_id ORDER BY u.username"
        )
        await conn.execute("TRUNCATE agents, users CASCADE")
    finally:
        await conn.close()
    assert [(r["username"], r["display_name"], r["roles"], r["demo"], r["extension"]) for r in rows] == [
        ("1001", "Wang Fang", ["agent"], True, "1001"),
        ("2001", "Real Person", ["agent"], False, "2001"),
    ]
    assert Passwords().verify("a real password", rows[1]["password_hash"])
