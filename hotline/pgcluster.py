"""A project-local PostgreSQL cluster: created with initdb on first use, started and stopped with pg_ctl.

initdb and postgres refuse to run as root, so as root they run as the ``postgres`` user, and the
data directory must be reachable by that user: when the work tree is not (a private home or a 0700
temporary directory), the cluster lives under /var/tmp instead, keyed by the work tree's path.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from pathlib import Path

from hotline.logs import get_logger

log = get_logger(__name__)

PG_BIN_CANDIDATES = sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)


class ClusterError(RuntimeError):
    pass


def pg_bin(name: str) -> str:
    for d in PG_BIN_CANDIDATES:
        if (d / name).exists():
            return str(d / name)
    found = shutil.which(name)
    if found:
        return found
    raise ClusterError(f"PostgreSQL's {name} not found: install the 'postgresql' package (make run does)")


class LocalCluster:
    def __init__(self, var_dir: Path, port: int, host: str = "127.0.0.1", throwaway: bool = False) -> None:
        self.var_dir = var_dir
        self.throwaway = throwaway
        self.port = port
        self.host = host
        self.as_root = os.geteuid() == 0
        base = var_dir / "pg"
        if self.as_root and not self._reachable_by_postgres(var_dir):
            key = hashlib.sha1(str(var_dir).encode()).hexdigest()[:12]
            base = Path("/var/tmp") / f"hotline-pg-{key}"
        self.base = base
        self.data = base / "data"
        self.sockdir = base / "run"
        self.logfile = base / "postgres.log"

    @staticmethod
    def _reachable_by_postgres(path: Path) -> bool:
        """Can the postgres user traverse to ``path``? (It needs no write access: var/pg is made its own.)"""
        path.mkdir(parents=True, exist_ok=True)
        r = subprocess.run(["runuser", "-u", "postgres", "--", "test", "-x", str(path)], capture_output=True)
        return r.returncode == 0

    def _run(self, argv: list[str], check: bool = True) -> subprocess.CompletedProcess[str]:
        if self.as_root:
            argv = ["runuser", "-u", "postgres", "--", *argv]
        r = subprocess.run(argv, capture_output=True, text=True)
        if check and r.returncode != 0:
            raise ClusterError(f"{' '.join(argv)} failed: {r.stderr.strip() or r.stdout.strip()}")
        return r

    def ensure_initialised(self) -> None:
        if (self.data / "PG_VERSION").exists():
            return
        self.base.mkdir(parents=True, exist_ok=True)
        self.sockdir.mkdir(parents=True, exist_ok=True)
        if self.as_root:
            shutil.chown(self.base, "postgres", "postgres")
            shutil.chown(self.sockdir, "postgres", "postgres")
        log.info("initialising PostgreSQL cluster", data=str(self.data))
        self._run(
            [
                pg_bin("initdb"),
                "-D",
                str(self.data),
                "-A",
                "trust",
                "-U",
                "hotline",
                "-E",
                "UTF8",
                "--no-instructions",
                "--locale=C.UTF-8",
            ]
        )

    def is_running(self) -> bool:
        r = self._run([pg_bin("pg_ctl"), "-D", str(self.data), "status"], check=False)
        return r.returncode == 0

    def postmaster_pid(self) -> int | None:
        """The PID in ``postmaster.pid`` (None without the file: never started, or stopped cleanly)."""
        try:
            return int((self.data / "postmaster.pid").read_text().split("\n", 1)[0])
        except (FileNotFoundError, ValueError):
            return None

    def postmaster_died(self) -> bool:
        """The postmaster left its PID file behind and is gone: it crashed or was killed. Cheap (no pg_ctl):
        for a supervisor's every poll. A clean stop removes the file (an operator's decision, not a death);
        a frozen (SIGSTOPped) postmaster is alive."""
        pid = self.postmaster_pid()
        if pid is None:
            return False
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        except PermissionError:
            return False
        return False

    def start(self) -> None:
        self.ensure_initialised()
        if self.is_running():
            return
        opts = f"-p {self.port} -k {self.sockdir} -c listen_addresses={self.host}"
        if self.throwaway:  # test clusters: durability is not worth the fsyncs
            opts += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        log.info("starting PostgreSQL", port=self.port)
        self._run(
            [pg_bin("pg_ctl"), "-D", str(self.data), "-l", str(self.logfile), "-o", opts, "-w", "-t", "30", "start"]
        )

    def stop(self) -> None:
        if (self.data / "PG_VERSION").exists() and self.is_running():
            self._run([pg_bin("pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop"], check=False)

    def destroy(self) -> None:
        self.stop()
        shutil.rmtree(self.base, ignore_errors=True)

    async def ensure_database(self, name: str = "hotline") -> None:
        import asyncpg

        conn = await asyncpg.connect(host=self.host, port=self.port, user="hotline", database="postgres", timeout=10)
        try:
            exists = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
            if not exists:
                await conn.execute(f'CREATE DATABASE "{name}"')
        finally:
            await conn.close()
