"""The whole system on one machine: PostgreSQL, Asterisk and the controller, set up and supervised.

``prepare`` is idempotent (cluster, database, migrations, demo data, prompts, Asterisk config);
``run`` starts Asterisk and serves the controller in the foreground until SIGINT/SIGTERM, then stops
everything it started, in reverse order.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import time
from pathlib import Path

import uvicorn
from sqlalchemy import select

from acd.models import Agent
from hotline.app import Controller
from hotline.config import Settings
from hotline.db import Database
from hotline.demo import load_demo_data
from hotline.logs import get_logger
from hotline.migrate import upgrade
from hotline.pgcluster import LocalCluster
from hotline.prompts import ensure_prompts
from hotline.render import SipAgent, render_asterisk
from ivr.menu import load_menu

log = get_logger(__name__)


class StackError(RuntimeError):
    pass


class Stack:
    def __init__(self, settings: Settings, throwaway_db: bool = False) -> None:
        self.settings = settings
        self.cluster = (
            LocalCluster(settings.var_dir, settings.pg_port, throwaway=throwaway_db)
            if settings.uses_local_cluster
            else None
        )
        self.asterisk: subprocess.Popen[bytes] | None = None
        self.exit_code = 0

    # ---- set-up --------------------------------------------------------------------------------
    async def prepare(self, demo: bool = True) -> None:
        s = self.settings
        s.var_dir.mkdir(parents=True, exist_ok=True)
        if not (s.asterisk_dir / "sbin" / "asterisk").exists():
            raise StackError(f"no Asterisk at {s.asterisk_dir}: run `make asterisk` (make run does it)")
        if self.cluster:
            await asyncio.to_thread(self.cluster.start)
            await self.cluster.ensure_database()
        log.info("migrating database")
        await asyncio.to_thread(upgrade, s.db_url)
        db = Database(s.db_url)
        try:
            if demo:
                await load_demo_data(db)
            async with db.session() as session:
                agents = [
                    SipAgent(a.extension, a.name, a.sip_password)
                    for a in (await session.execute(select(Agent).order_by(Agent.extension))).scalars()
                ]
        finally:
            await db.close()
        prompts = await asyncio.to_thread(ensure_prompts, load_menu().prompts, s.prompts_dir)
        render_asterisk(s, agents, prompts)
        log.info("configuration rendered", etc=str(s.asterisk_etc), agents=len(agents))

    # ---- Asterisk ------------------------------------------------------------------------------
    @property
    def asterisk_cmd(self) -> list[str]:
        return [
            str(self.settings.asterisk_dir / "sbin" / "asterisk"),
            "-C",
            str(self.settings.asterisk_etc / "asterisk.conf"),
        ]

    def asterisk_cli(self, command: str, timeout: float = 10) -> str:
        r = subprocess.run([*self.asterisk_cmd, "-rx", command], capture_output=True, text=True, timeout=timeout)
        return r.stdout

    def start_asterisk(self, timeout: float = 60) -> None:
        log_dir = self.settings.log_dir
        log_dir.mkdir(parents=True, exist_ok=True)
        with (log_dir / "asterisk-console.log").open("ab") as out:
            self.asterisk = subprocess.Popen(
                [*self.asterisk_cmd, "-f", "-n"],
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,  # the terminal's Ctrl-C reaches us only; we stop Asterisk in order
            )
        (self.settings.var_dir / "asterisk.pid").write_text(str(self.asterisk.pid))
        ctl = self.settings.asterisk_run / "asterisk.ctl"
        deadline = time.monotonic() + timeout
        while not ctl.exists():
            if self.asterisk.poll() is not None:
                raise StackError(f"Asterisk exited at start (code {self.asterisk.returncode}); see {log_dir}")
            if time.monotonic() > deadline:
                raise StackError("Asterisk did not open its control socket in time")
            time.sleep(0.2)
        self.asterisk_cli("core waitfullybooted", timeout=timeout)
        log.info("Asterisk started", pid=self.asterisk.pid)

    def stop_asterisk(self) -> None:
        if self.asterisk is None or self.asterisk.poll() is not None:
            return
        with contextlib.suppress(Exception):
            self.asterisk_cli("core stop now", timeout=10)
        try:
            self.asterisk.wait(10)
        except subprocess.TimeoutExpired:
            self.asterisk.terminate()
            try:
                self.asterisk.wait(5)
            except subprocess.TimeoutExpired:
                self.asterisk.kill()
                self.asterisk.wait()
        log.info("Asterisk stopped")

    async def watch_asterisk(self, server: uvicorn.Server, max_restarts: int = 5, window: float = 300) -> None:
        """Restart Asterisk if it dies (the AMI client reconnects and the agents' queue membership is
        restored on login); give up, stopping everything, if it keeps dying."""
        restarts: list[float] = []
        while not server.should_exit:
            await asyncio.sleep(1.0)
            if self.asterisk is None or self.asterisk.poll() is None:
                continue
            now = time.monotonic()
            restarts = [t for t in restarts if now - t < window] + [now]
            if len(restarts) > max_restarts:
                log.error("Asterisk keeps exiting; stopping", restarts=len(restarts), window=window)
                self.exit_code = 1
                server.should_exit = True
                return
            log.error("Asterisk exited unexpectedly; restarting", code=self.asterisk.returncode)
            try:
                await asyncio.to_thread(self.start_asterisk)
            except StackError as e:
                log.error("Asterisk restart failed", error=str(e))

    # ---- everything ----------------------------------------------------------------------------
    async def serve(self) -> None:
        s = self.settings
        controller = Controller(s)
        config = uvicorn.Config(
            controller.build_api(), host=s.bind_host, port=s.http_port, log_config=None, access_log=False, lifespan="on"
        )
        server = uvicorn.Server(config)
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, lambda: setattr(server, "should_exit", True))
        watchdog = asyncio.create_task(self.watch_asterisk(server))
        try:
            await server.serve()
        finally:
            watchdog.cancel()

    def run(self) -> int:
        """Foreground: set up, start everything, serve; Ctrl-C (or SIGTERM) stops what was started."""
        try:
            asyncio.run(self.prepare())
            self.start_asterisk()
            (self.settings.var_dir / "hotline.pid").write_text(str(os.getpid()))
            print_banner(self.settings)
            asyncio.run(self.serve())
            return self.exit_code
        finally:
            self.stop_asterisk()
            if self.cluster:
                self.cluster.stop()
            with contextlib.suppress(FileNotFoundError):
                (self.settings.var_dir / "hotline.pid").unlink()


def print_banner(s: Settings) -> None:
    from hotline.demo import demo_agent_password, demo_sip_password

    url = f"http://{s.bind_host}:{s.http_port}"
    print(
        f"""
hotline is up.
  Agent desk      {url}/agent     (log in as 1001 / {demo_agent_password("1001")})
  API             {url}/docs      (OpenAPI: {url}/openapi.json)
  Health          {url}/healthz
  SIP             {s.bind_host}:{s.sip_port} (UDP)
    1. register a softphone as 1001, password {demo_sip_password("1001")} (agents 1001-1010: sip<ext>)
    2. on the desk, log in and press "Available"
    3. from a second softphone (no registration needed), call {s.hotline_number}@{s.bind_host}:{s.sip_port},
       press 0 — the desk pops the caller before the phone is answered.
       Known demo callers: 13800138000 (VIP), 13900139000, 13700137000 (key account).
  Recordings      {s.recordings_dir}
Ctrl-C stops everything.
""",
        flush=True,
    )


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False
    except PermissionError:
        return True


def read_pid(path: Path) -> int | None:
    try:
        return int(path.read_text().strip())
    except (FileNotFoundError, ValueError):
        return None
