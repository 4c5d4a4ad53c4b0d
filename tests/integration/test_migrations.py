from __future__ import annotations

import asyncio

import asyncpg

from hotline.migrate import downgrade, upgrade

EXPECTED = {
    "agents",
    "agent_state_log",
    "customers",
    "tickets",
    "queue_events",
    "interactions",
    "recordings",
    "call_legs",
    "users",
    "user_sessions",
    "recording_access",
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
