"""Database engine, sessions and the declarative base shared by every domain package's models."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

import sqlalchemy.exc
from sqlalchemy import MetaData, Table, event, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase

from hotline.fastread import AnySelect, FastReads

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


def table_of(model: type[Base]) -> Table:
    """A mapped class's table, typed as one: the hot sinks build Core statements on it once, at import (the ORM's
    bulk path and a statement built per batch cost more CPU than the write itself)."""
    table = model.__table__
    if not isinstance(table, Table):
        raise TypeError(f"{model.__name__} is not mapped to a table")
    return table


# seconds a pooled connection may rest before it is pinged on its next checkout: a screen-pop's look-ups take
# four connections at once, and at 1 s the profile showed pings (BEGIN, `;`, ROLLBACK) inside those look-ups
IDLE_PING_AFTER = 10.0


def _ping_idle_connections(engine: AsyncEngine) -> None:
    """A database restart leaves the pool's connections dead, and a read must not fail on one. SQLAlchemy's
    ``pool_pre_ping`` checks at every checkout, three round trips each time (it doubled the transactions of
    a call). A connection the server closed is known locally and replaced at once; one in use moments ago
    was alive moments ago; only one that rested a while is pinged. A failed ping has the pool replace the
    connection (``DisconnectionError``); ``back()`` also drops them all once the health probe sees the
    database return."""

    @event.listens_for(engine.sync_engine, "checkin")
    def _rested_from(dbapi_connection: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine.sync_engine, "checkout")
    def _alive(dbapi_connection: Any, record: Any, proxy: Any) -> None:
        driver = getattr(dbapi_connection, "driver_connection", None)
        if driver is not None and driver.is_closed():  # the server hung up on it (a restart): no round trip
            raise sqlalchemy.exc.DisconnectionError("pooled connection closed by the server")
        since = record.info.get("idle_since")
        if since is None or time.monotonic() - since < IDLE_PING_AFTER:
            return
        try:
            dbapi_connection.ping()
        except Exception as e:
            raise sqlalchemy.exc.DisconnectionError(f"pooled connection dead: {e}") from e


class Database:
    def __init__(self, url: str) -> None:
        self.engine: AsyncEngine = create_async_engine(
            url,
            # enough for a burst of screen-pops (three reads each, side by side) without opening and closing
            # overflow connections all the time: a new connection costs far more than a query
            pool_size=10,
            max_overflow=10,
            # the connection used last goes out first: under steady traffic one or two stay busy and never rest
            # long enough to need a ping (first in, first out, every checkout found one rested and pinged it:
            # an empty transaction, seven per call)
            pool_use_lifo=True,
            pool_timeout=5,
            connect_args={"timeout": 5, "command_timeout": 10},
        )
        _ping_idle_connections(self.engine)
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        # the same pool, each statement on its own: a look-up needs no BEGIN and ROLLBACK around it
        self.readers = async_sessionmaker(
            self.engine.execution_options(isolation_level="AUTOCOMMIT"), expire_on_commit=False
        )
        self.fast = FastReads(self.engine)
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

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        """A session for reads only (a look-up on a call's path): two round trips fewer than ``session()``,
        and no snapshot across its statements."""
        async with self.readers() as s:
            yield s

    async def fetch(self, statement: AnySelect, params: Mapping[str, Any]) -> list[Any]:
        """The rows of a hot look-up (a few statements on every call's path), straight on the driver: see
        ``hotline.fastread``. The rows have the statement's column names as attributes."""
        return await self.fast.fetch(statement, params)

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
