"""The outbox's local half (no database reachable): durability across SIGKILL, error sorting, column fitting."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import asyncpg
import sqlalchemy.exc
from pydantic import BaseModel
from sqlalchemy import Column, Integer, MetaData, String, Table, Text

from hotline.columns import fit_row
from hotline.db import Database
from hotline.outbox import Outbox, is_transient

ROOT = Path(__file__).resolve().parents[2]
CLOSED = "postgresql+asyncpg://hotline@127.0.0.1:1/hotline"

PUTTER = textwrap.dedent(
    """
    import asyncio, sys
    from pathlib import Path
    from pydantic import BaseModel
    from hotline.db import Database
    from hotline.outbox import Outbox

    class Note(BaseModel):
        n: int

    async def nowhere(session, records):
        raise AssertionError("the database is unreachable in this test")

    async def main():
        box = Outbox(Path(sys.argv[1]), Database(sys.argv[2]))
        box.register("note", Note, nowhere)
        await box.start()
        await asyncio.gather(*(box.put("note", Note(n=i)) for i in range(int(sys.argv[3]))))
        print("stored", flush=True)
        await asyncio.sleep(60)

    asyncio.run(main())
    """
)


class Note(BaseModel):
    n: int


async def test_records_put_survive_sigkill(tmp_path: Path) -> None:
    path = tmp_path / "outbox.sqlite3"
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", PUTTER, str(path), CLOSED, "300", cwd=ROOT, stdout=subprocess.PIPE
    )
    try:
        assert proc.stdout is not None
        line = await asyncio.wait_for(proc.stdout.readline(), 30)
        assert line.strip() == b"stored"
        proc.send_signal(signal.SIGKILL)
        assert await asyncio.wait_for(proc.wait(), 10) == -signal.SIGKILL
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    delivered: list[int] = []

    async def sink(_: object, records: list[Note]) -> None:
        delivered.extend(r.n for r in records)

    box = Outbox(path, Database(CLOSED))
    box.register("note", Note, sink)  # type: ignore[arg-type]
    await box.start()
    try:
        assert box.stats.pending == 300 and box.stats.parked == 0
        assert box.stats.oldest_pending_age_s is not None
    finally:
        await box.stop()
    await box.db.close()


async def test_put_refuses_an_unknown_kind_and_stop_keeps_what_is_undelivered(tmp_path: Path) -> None:
    db = Database(CLOSED)
    box = Outbox(tmp_path / "o.sqlite3", db, stop_grace=0.2)

    async def sink(_: object, records: list[Note]) -> None:
        raise AssertionError("not reached")

    box.register("note", Note, sink)  # type: ignore[arg-type]
    await box.start()
    try:
        await box.put("nothing", Note(n=1))
    except KeyError:
        pass
    else:
        raise AssertionError("an unregistered kind must be refused")
    await box.put("note", Note(n=1))
    await box.put("note", Note(n=2))
    await box.stop()
    again = Outbox(tmp_path / "o.sqlite3", db)
    again.register("note", Note, sink)  # type: ignore[arg-type]
    again.register("other", Note, sink)  # type: ignore[arg-type]
    await again.start()
    assert again.stats.pending == 2
    # what an earlier run left undelivered, read back by kind in order (a package rebuilds its state from it)
    assert await again.pending("note", Note) == [Note(n=1), Note(n=2)]
    assert await again.pending("other", Note) == []

    class Other(BaseModel):
        n: int

    try:
        await again.pending("note", Other)
    except TypeError:
        pass
    else:
        raise AssertionError("records must be read as the model their kind was registered with")
    await again.stop()
    await db.close()


def _pg_error(cls: type[Exception], sqlstate: str | None = None) -> Exception:
    err = cls("boom")
    if sqlstate:
        err.sqlstate = sqlstate  # type: ignore[attr-defined]
    return err


def test_transient_and_permanent_errors_are_told_apart() -> None:
    transient = [
        ConnectionRefusedError(111, "refused"),
        ConnectionResetError(104, "reset"),
        TimeoutError(),
        asyncpg.exceptions.ConnectionDoesNotExistError("closed"),
        asyncpg.exceptions.CannotConnectNowError("starting up"),
        asyncpg.exceptions.TooManyConnectionsError("too many"),
        asyncpg.exceptions.AdminShutdownError("shutdown"),
        asyncpg.exceptions.SerializationError("serialize"),
        asyncpg.exceptions.DeadlockDetectedError("deadlock"),
        sqlalchemy.exc.TimeoutError("pool"),
    ]
    for e in transient:
        assert is_transient(e), e
    wrapped = sqlalchemy.exc.DBAPIError("INSERT", {}, _pg_error(Exception, "40001"))
    assert is_transient(wrapped)
    permanent = [
        asyncpg.exceptions.StringDataRightTruncationError("too long"),
        asyncpg.exceptions.ForeignKeyViolationError("fk"),
        sqlalchemy.exc.IntegrityError("INSERT", {}, _pg_error(Exception, "23505")),
        sqlalchemy.exc.DataError("INSERT", {}, _pg_error(Exception, "22001")),
        ValueError("bad"),
    ]
    for e in permanent:
        assert not is_transient(e), e


def test_rows_are_fitted_to_their_columns() -> None:
    table = Table("t", MetaData(), Column("id", Integer), Column("name", String(5)), Column("note", Text))
    row = {"id": 7, "name": "abcdefgh", "note": "x" * 10_000 + "\x00y", "other": "z" * 99}
    fitted = fit_row(table, row)
    assert fitted == {"id": 7, "name": "abcde", "note": "x" * 10_000 + "y", "other": "z" * 99}
    assert row["name"] == "abcdefgh"  # the caller's dict is untouched
