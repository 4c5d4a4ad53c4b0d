"""Database engine, sessions and the declarative base shared by every domain package's models."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy import MetaData, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Database:
    def __init__(self, url: str) -> None:
        self.engine: AsyncEngine = create_async_engine(
            url,
            pool_size=5,
            max_overflow=5,
            # a ping before every checkout (three round trips): a database restart leaves the pool's
            # connections dead, and a read must not fail on one; ``back()`` also drops them at once
            pool_pre_ping=True,
            pool_timeout=5,
            connect_args={"timeout": 5, "command_timeout": 10},
        )
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        # the last health probe's verdict (hotline.health.DatabaseProbe): a service may fail fast on False
        # instead of waiting out its timeouts on a database that is away; optimistic until probed
        self.available = True

    async def back(self) -> None:
        """The database answers again after being away: drop the pooled connections (they died with it)."""
        await self.engine.dispose(close=False)

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        async with self.sessions() as s:
            yield s

    async def ping(self, timeout: float = 2.0) -> bool:
        try:
            async with asyncio.timeout(timeout):
                async with self.engine.connect() as conn:
                    await conn.execute(text("SELECT 1"))
            return True
        except Exception:
            return False

    async def close(self) -> None:
        await self.engine.dispose()


def import_all_models() -> None:
    """Register every table on Base.metadata (Alembic, tests): the core's own, then each listed package's."""
    import hotline.auth.models  # noqa: F401
    from hotline.plugins import import_models

    import_models()
