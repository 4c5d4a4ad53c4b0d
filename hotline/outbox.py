"""A durable local outbox: records that must reach PostgreSQL are first made safe on local disk.

``put`` returns once the record is fsynced in a SQLite file under var/ (WAL, synchronous=FULL), so a
database outage of any length, or a controller killed at any moment, loses nothing. A drainer task
delivers pending records in order, batched per kind, and deletes them locally only after the PostgreSQL
commit. It lingers a moment after being woken so that what one call leaves behind (its record, its legs, the
agents' state changes) travels together: every kind of a window in one PostgreSQL transaction, each a
statement of its own, falling back to one transaction per kind when that fails. A transaction costs the
controller far more CPU than a row, so this is most of what a call costs it at the database. A crash between
the commit and the local delete re-delivers the batch: every sink is idempotent (an upsert on a natural key),
so each record lands exactly once. The local delete is not fsynced (it becomes durable with the next put's
fsync): losing it to a power cut only means a harmless re-delivery.

The records put since start are also kept in memory, in order, so the drainer takes them from there instead of
reading them back from the file (one thread hand-off per delivery instead of two). The file is read instead
while it holds records the memory does not: those from before a start, parked records put back in line, or
after a long outage made the memory give its copy up (``MIRROR_MAX``).

Errors are sorted: a transient one (connection refused or lost, a frozen database's timeout, a restart,
a serialisation failure) keeps the records and retries with back-off, forever; a permanent one (bad
data, a constraint) bisects the batch to find the bad records, which are parked locally with their error
and reported, while their batch-mates are delivered.

All SQLite work runs on one dedicated thread; concurrent ``put`` calls share a commit (group commit).
The outbox knows no domain: packages register a kind, its pydantic model and its sink.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import sqlite3
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import asyncpg
import sqlalchemy.exc
from pydantic import BaseModel, ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.db import Database
from hotline.errors import first_line
from hotline.logs import get_logger

log = get_logger(__name__)

Sink = Callable[[AsyncSession, list[Any]], Awaitable[None]]
M = TypeVar("M", bound=BaseModel)

MIRROR_MAX = 20_000  # records kept in memory as well as on disk; past this the drainer reads the file
FIRST_BACKOFF = 0.5
MAX_BACKOFF = 10.0
# SQLSTATE classes that mean "try again later": connection (08), transaction rollback such as
# serialisation failure and deadlock (40), insufficient resources (53), operator intervention such as
# admin shutdown or "starting up" (57), system I/O error (58)
TRANSIENT_SQLSTATE_CLASSES = frozenset({"08", "40", "53", "57", "58"})
TRANSIENT_SQLSTATES = frozenset({"55P03", "55006"})  # lock not available, object in use
TRANSIENT_TYPES: tuple[type[BaseException], ...] = (
    TimeoutError,
    OSError,
    asyncpg.exceptions.InterfaceError,  # includes ConnectionDoesNotExistError
    asyncpg.exceptions.PostgresConnectionError,
    sqlalchemy.exc.DisconnectionError,
    sqlalchemy.exc.TimeoutError,  # pool checkout
)


def _chain(e: BaseException) -> Iterable[BaseException]:
    """The exception, what SQLAlchemy wrapped (``orig``) and what caused it, each once."""
    seen: set[int] = set()
    todo: list[BaseException | None] = [e]
    while todo:
        x = todo.pop()
        if x is None or id(x) in seen:
            continue
        seen.add(id(x))
        yield x
        todo.extend([getattr(x, "orig", None), x.__cause__, x.__context__])


def is_transient(e: BaseException) -> bool:
    """True when retrying later can succeed (the database is away, slow or busy), False for bad data."""
    for x in _chain(e):
        if isinstance(x, TRANSIENT_TYPES):
            return True
        if isinstance(x, sqlalchemy.exc.DBAPIError) and x.connection_invalidated:
            return True
        state = getattr(x, "sqlstate", None)
        if isinstance(state, str) and (state[:2] in TRANSIENT_SQLSTATE_CLASSES or state in TRANSIENT_SQLSTATES):
            return True
    return False


class TransientError(Exception):
    """Delivery must wait: the records stay pending."""


@dataclass(frozen=True)
class OutboxStats:
    pending: int
    parked: int
    delivered_total: int
    oldest_pending_age_s: float | None
    last_error: str | None


@dataclass(frozen=True)
class ParkedRecord:
    id: int
    kind: str
    body: str
    error: str
    created_at: float


@dataclass(frozen=True)
class RecordKind:
    """A durable record kind as the catalogue lists it: its model, the sink that stores it, other packages' sinks."""

    kind: str
    model: type[BaseModel]
    sink: Sink
    subscribers: tuple[Sink, ...]


@dataclass(frozen=True)
class _Row:
    id: int
    kind: str
    body: str
    created: float


@dataclass(frozen=True)
class _Kind:
    model: type[BaseModel]
    sink: Sink
    shared: bool  # may share a PostgreSQL transaction with other kinds (a sink that writes only there)


class _Store:
    """The SQLite file. Every method runs on the outbox's one thread."""

    SCHEMA = """
        CREATE TABLE IF NOT EXISTS outbox (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            kind TEXT NOT NULL,
            body TEXT NOT NULL,
            created REAL NOT NULL,
            parked INTEGER NOT NULL DEFAULT 0,
            error TEXT
        );
        CREATE INDEX IF NOT EXISTS ix_outbox_parked_id ON outbox (parked, id);
    """

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA synchronous=FULL")
        self.conn.executescript(self.SCHEMA)

    def insert(self, rows: Sequence[tuple[str, str, float]]) -> list[int]:
        """The rows' ids, in order."""
        with self.conn:  # one transaction, one fsync
            self.conn.execute("BEGIN IMMEDIATE")
            add = "INSERT INTO outbox (kind, body, created) VALUES (?, ?, ?)"
            return [self.conn.execute(add, row).lastrowid or 0 for row in rows]

    def fetch(self, limit: int) -> list[_Row]:
        cur = self.conn.execute(
            "SELECT id, kind, body, created FROM outbox WHERE parked = 0 ORDER BY id LIMIT ?", (limit,)
        )
        return [_Row(*r) for r in cur]

    def delete(self, ids: Sequence[int]) -> None:
        """Forget delivered rows without an fsync of their own: the next insert's fsync covers them (the WAL is
        one file), and a delete lost to a power cut only re-delivers rows the sinks take idempotently."""
        self.conn.execute("PRAGMA synchronous=NORMAL")
        try:
            with self.conn:
                self.conn.execute("BEGIN IMMEDIATE")
                self.conn.executemany("DELETE FROM outbox WHERE id = ?", [(i,) for i in ids])
        finally:
            self.conn.execute("PRAGMA synchronous=FULL")

    def park(self, row_id: int, error: str) -> None:
        with self.conn:
            self.conn.execute("BEGIN IMMEDIATE")
            self.conn.execute("UPDATE outbox SET parked = 1, error = ? WHERE id = ?", (error, row_id))

    def of_kind(self, kind: str) -> list[str]:
        cur = self.conn.execute("SELECT body FROM outbox WHERE parked = 0 AND kind = ? ORDER BY id", (kind,))
        return [body for (body,) in cur]

    def parked(self) -> list[ParkedRecord]:
        cur = self.conn.execute("SELECT id, kind, body, error, created FROM outbox WHERE parked = 1 ORDER BY id")
        return [ParkedRecord(*r) for r in cur]

    def unpark(self, ids: Sequence[int]) -> int:
        with self.conn:
            self.conn.execute("BEGIN IMMEDIATE")
            n = 0
            for i in ids:
                n += self.conn.execute(
                    "UPDATE outbox SET parked = 0, error = NULL WHERE id = ? AND parked = 1", (i,)
                ).rowcount
            return n

    def counts(self) -> tuple[int, int, float | None]:
        pending, oldest = self.conn.execute("SELECT count(*), min(created) FROM outbox WHERE parked = 0").fetchone()
        parked = self.conn.execute("SELECT count(*) FROM outbox WHERE parked = 1").fetchone()[0]
        return int(pending), int(parked), oldest

    def close(self) -> None:
        self.conn.close()


class Outbox:
    def __init__(
        self,
        path: Path,
        db: Database,
        *,
        batch: int = 500,
        timeout: float = 10.0,
        stop_grace: float = 2.0,
        linger: float = 0.05,
    ) -> None:
        self.path = path
        self.linger = linger  # seconds the drainer waits, once woken, for more records to travel with
        self.db = db
        self.batch = batch
        self.timeout = timeout  # one delivery transaction; a frozen database must end in a timeout
        self.stop_grace = stop_grace
        self._kinds: dict[str, _Kind] = {}
        self._subscribers: dict[str, list[Sink]] = {}  # other packages' sinks for a kind, after its owner's
        self._executor: ThreadPoolExecutor | None = None
        self._store: _Store | None = None
        self._incoming: list[tuple[str, str, float, asyncio.Future[None]]] = []
        self._committer: asyncio.Task[None] | None = None
        self._drainer: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        self._hurry = asyncio.Event()  # set when stopping: the linger ends at once
        # every record committed since start and not yet delivered or parked, by id (in id order)
        self._mirror: dict[int, _Row] = {}
        self._mirror_whole = False  # the mirror holds every pending record: no need to read the file
        self._mirror_epoch = 0  # bumped when the mirror is given up
        self._idle = asyncio.Event()  # set while nothing is pending (the drainer found the outbox empty)
        self._pending = 0
        self._parked = 0
        self._oldest: float | None = None
        self.delivered_total = 0
        self.last_error: str | None = None
        self.commits = 0  # local transactions, for measuring the group commit
        self.transactions = 0  # PostgreSQL delivery transactions attempted

    def register(self, kind: str, model: type[BaseModel], sink: Sink, *, shared: bool = True) -> None:
        """``shared=False`` for a sink whose effect lies outside PostgreSQL (an HTTP write-back): it is given
        a transaction of its own, never rolled back with, or repeated for, another kind's failure."""
        if kind in self._kinds:
            raise ValueError(f"outbox kind {kind!r} registered twice")
        self._kinds[kind] = _Kind(model, sink, shared)

    def subscribe(self, kind: str, sink: Sink) -> None:
        """Another package's sink for a kind it does not own (a durable record it consumes): it is given the same
        records, in the same PostgreSQL transaction as the owner's sink, after it. A failure of either rolls
        both back, so a bad record is parked (and later retried) for both: each record lands once everywhere."""
        self._subscribers.setdefault(kind, []).append(sink)

    def kinds(self) -> list[RecordKind]:
        """Every registered kind, in registration order (for the catalogue)."""
        return [
            RecordKind(kind, spec.model, spec.sink, tuple(self._subscribers.get(kind, ())))
            for kind, spec in self._kinds.items()
        ]

    async def _apply(self, s: AsyncSession, spec: _Kind, kind: str, records: list[BaseModel]) -> None:
        await spec.sink(s, records)
        for sink in self._subscribers.get(kind, ()):
            await sink(s, records)

    @property
    def stats(self) -> OutboxStats:
        age = None if self._oldest is None or self._pending == 0 else max(0.0, time.time() - self._oldest)
        return OutboxStats(self._pending, self._parked, self.delivered_total, age, self.last_error)

    async def _run(self, fn: Callable[..., Any], *args: Any) -> Any:
        if self._executor is None:
            raise RuntimeError("outbox not started")
        return await asyncio.get_running_loop().run_in_executor(self._executor, fn, *args)

    def _s(self) -> _Store:
        if self._store is None:
            raise RuntimeError("outbox not started")
        return self._store

    async def start(self) -> None:
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="outbox")
        self._store = await self._run(_Store, self.path)
        self._pending, self._parked, self._oldest = await self._run(self._s().counts)
        self._mirror_whole = self._pending == 0
        self._hurry.clear()
        if self._pending or self._parked:
            log.info("outbox holds records from before", pending=self._pending, parked=self._parked)
        self._drainer = asyncio.create_task(self._drain_forever(), name="outbox-drainer")

    async def stop(self) -> None:
        """Deliver what can be delivered within a short grace; whatever is left stays on disk."""
        self._hurry.set()
        if self._committer:
            with contextlib.suppress(Exception):
                await self._committer
        if self._drainer:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.stop_grace):
                    await self._idle.wait()
            self._drainer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._drainer
            self._drainer = None
        if self._store is not None:
            await self._run(self._store.close)
            self._store = None
        if self._executor is not None:
            self._executor.shutdown(wait=True)
            self._executor = None

    # -- putting ---------------------------------------------------------------------------------------
    async def put(self, kind: str, record: BaseModel) -> None:
        """Keep ``record`` for delivery; returns once it is fsynced locally."""
        await self.put_many(kind, [record])

    async def put_many(self, kind: str, records: Sequence[BaseModel]) -> None:
        """Keep ``records``, in order, for delivery; returns once they are all fsynced locally (one commit)."""
        if kind not in self._kinds:
            raise KeyError(f"outbox kind {kind!r} not registered")
        if self._store is None:
            raise RuntimeError("outbox not started")
        if not records:
            return
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        now = time.time()
        self._incoming += [(kind, record.model_dump_json(), now, fut) for record in records]
        if self._committer is None or self._committer.done():
            self._committer = asyncio.create_task(self._commit_incoming())
        await asyncio.shield(fut)

    async def _commit_incoming(self) -> None:
        """Group commit: everything that arrived while the previous commit was in flight goes in one."""
        while self._incoming:
            group, self._incoming = self._incoming, []
            try:
                ids: list[int] = await self._run(self._s().insert, [(k, b, t) for k, b, t, _ in group])
            except Exception as e:
                log.error("outbox could not keep records on disk", error=repr(e), records=len(group))
                for *_, fut in group:
                    if not fut.done():
                        fut.set_exception(e)
                continue
            self.commits += 1
            self._remember([_Row(i, k, b, t) for i, (k, b, t, _) in zip(ids, group, strict=True)])
            if self._pending == 0:
                self._oldest = group[0][2]
            self._pending += len(group)
            self._idle.clear()
            for *_, fut in group:
                if not fut.done():
                    fut.set_result(None)
            self._wake.set()

    # -- draining --------------------------------------------------------------------------------------
    async def _drain_forever(self) -> None:
        delay = FIRST_BACKOFF
        while True:
            self._wake.clear()  # before looking: a commit after this point wakes the next wait
            try:
                progressed = await self.drain_once()
            except TransientError as e:
                self.last_error = str(e)
                log.warning(
                    "records not delivered yet; will retry", pending=self._pending, retry_in=delay, error=str(e)
                )
                await asyncio.sleep(delay)
                delay = min(delay * 2, MAX_BACKOFF)
                continue
            except Exception as e:  # the local file itself failed: keep trying, loudly
                self.last_error = repr(e)
                log.error("outbox drain failed", error=repr(e))
                await asyncio.sleep(delay)
                delay = min(delay * 2, MAX_BACKOFF)
                continue
            delay = FIRST_BACKOFF
            if not progressed:
                self._idle.set()
                await self._wake.wait()
                if self.linger > 0 and not self._hurry.is_set():
                    with contextlib.suppress(TimeoutError):
                        async with asyncio.timeout(self.linger):
                            await self._hurry.wait()

    async def drain_once(self) -> bool:
        """Deliver up to one batch window of pending records; False when there was nothing to deliver."""
        whole, epoch = False, self._mirror_epoch
        if self._mirror_whole:
            rows = list(itertools.islice(self._mirror.values(), self.batch))
        else:
            rows = await self._run(self._s().fetch, self.batch)
            # every pending record is in this read; those put after it are in the mirror (unless it was given up)
            whole = len(rows) < self.batch and epoch == self._mirror_epoch
        if not rows:
            self._pending, self._oldest = 0, None
            self._mirror_whole = self._mirror_whole or whole
            return False
        self._oldest = rows[0].created
        by_kind: dict[str, list[_Row]] = {}
        for row in rows:  # first-seen order of kinds; each kind's records keep their order
            by_kind.setdefault(row.kind, []).append(row)
        batches = [batch for kind, group in by_kind.items() if (batch := await self._decode(kind, group))]
        together = [b for b in batches if b[0].shared]
        if len(together) > 1 and await self._deliver_together(together):
            batches = [b for b in batches if not b[0].shared]
        for spec, good, records in batches:
            await self._deliver_records(spec, good, records)
        if whole and epoch == self._mirror_epoch:  # this read's records are delivered or parked: the mirror will do
            self._mirror_whole = True
        return True

    def _remember(self, rows: list[_Row]) -> None:
        if len(self._mirror) + len(rows) > MIRROR_MAX:  # a long outage: memory gives up its copy, the file stays
            self._mirror.clear()
            self._mirror_whole = False
            self._mirror_epoch += 1
        for row in rows:
            self._mirror[row.id] = row

    def _forget(self, rows: Iterable[_Row]) -> None:
        for row in rows:
            self._mirror.pop(row.id, None)

    async def _decode(self, kind: str, rows: list[_Row]) -> tuple[_Kind, list[_Row], list[BaseModel]] | None:
        """The kind's records read back (an unreadable one is parked); None when none is left."""
        spec = self._kinds.get(kind)
        if spec is None:
            raise TransientError(f"no sink registered for kind {kind!r}")
        records: list[BaseModel] = []
        good: list[_Row] = []
        for row in rows:
            try:
                records.append(spec.model.model_validate_json(row.body))
                good.append(row)
            except ValidationError as e:
                await self._park(row, f"unreadable record: {e}")
        return (spec, good, records) if good else None

    async def _deliver_together(self, batches: list[tuple[_Kind, list[_Row], list[BaseModel]]]) -> bool:
        """Every kind's batch in one transaction. False when it failed for a reason other than a transient
        one: the caller then delivers kind by kind, which finds and parks the bad records."""
        self.transactions += 1
        try:
            async with asyncio.timeout(self.timeout):
                async with self.db.session() as s:
                    for spec, rows, records in batches:
                        await self._apply(s, spec, rows[0].kind, records)
                    await s.commit()
        except asyncio.CancelledError:
            raise
        except Exception as e:
            if is_transient(e) or not await self._database_answers():
                raise TransientError(first_line(e)) from e
            return False
        await self._delivered([row for _, rows, _ in batches for row in rows])
        return True

    async def _deliver_records(self, spec: _Kind, rows: list[_Row], records: list[BaseModel]) -> None:
        self.transactions += 1
        try:
            async with asyncio.timeout(self.timeout):
                async with self.db.session() as s:
                    await self._apply(s, spec, rows[0].kind, records)
                    await s.commit()
        except asyncio.CancelledError:
            raise
        except Exception as e:
            if is_transient(e) or not await self._database_answers():
                raise TransientError(first_line(e)) from e
            if len(rows) == 1:
                await self._park(rows[0], str(e))
                return
            half = len(rows) // 2
            await self._deliver_records(spec, rows[:half], records[:half])
            await self._deliver_records(spec, rows[half:], records[half:])
            return
        await self._delivered(rows)

    async def _delivered(self, rows: list[_Row]) -> None:
        """Forget rows PostgreSQL now holds. A failure here re-delivers them later: harmless, sinks are idempotent."""
        try:
            await self._run(self._s().delete, [r.id for r in rows])
        except Exception:
            self._mirror_whole = False  # the file still holds them: read it, deliver them again, delete them
            raise
        self._forget(rows)
        self._pending = max(0, self._pending - len(rows))
        self.delivered_total += len(rows)
        self.last_error = None

    async def _park(self, row: _Row, error: str) -> None:
        await self._run(self._s().park, row.id, error[:4000])
        self._forget([row])
        self._pending = max(0, self._pending - 1)
        self._parked += 1
        log.error("record parked: it cannot be stored as it is", kind=row.kind, outbox_id=row.id, error=error[:500])

    async def _database_answers(self) -> bool:
        """A "permanent" error is believed only if the database is reachable (it may have died mid-batch)."""
        return await self.db.ping(timeout=min(self.timeout, 3.0))

    async def pending(self, kind: str, model: type[M]) -> list[M]:
        """The records of ``kind`` not delivered yet, oldest first, from the file (so also those an earlier run
        left): a package whose state is the sum of its records reads them at start over what PostgreSQL has."""
        if self._kinds[kind].model is not model:
            raise TypeError(f"records of {kind!r} are {self._kinds[kind].model.__name__}, not {model.__name__}")
        bodies: list[str] = await self._run(self._s().of_kind, kind)
        records: list[M] = []
        for body in bodies:
            with contextlib.suppress(ValidationError):  # an unreadable one is parked when the drainer meets it
                records.append(model.model_validate_json(body))
        return records

    # -- parked records --------------------------------------------------------------------------------
    async def parked(self) -> list[ParkedRecord]:
        result: list[ParkedRecord] = await self._run(self._s().parked)
        return result

    async def retry_parked(self, ids: Sequence[int]) -> int:
        """Put parked records back in line (after the cause was fixed); returns how many."""
        n: int = await self._run(self._s().unpark, list(ids))
        self._parked = max(0, self._parked - n)
        self._pending += n
        if n:
            self._mirror_whole = False  # the file holds records the mirror does not
            self._idle.clear()
        self._wake.set()
        return n
