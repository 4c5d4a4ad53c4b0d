"""The whole system on one machine: PostgreSQL, Asterisk and the controller, set up and supervised.

``prepare`` is idempotent (cluster, database, migrations, the mode's accounts — demo data in demo mode,
an admin and no demo user in production —, prompts, Asterisk config);
``run`` starts Asterisk and serves the controller in the foreground until SIGINT/SIGTERM, then stops
everything it started, in reverse order.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import uvicorn

from hotline.app import Controller
from hotline.auth import Argon2Cost, Passwords
from hotline.auth.bootstrap import StartRefused, disable_demo_users, ensure_admin
from hotline.config import Settings
from hotline.db import Database
from hotline.demo import load_demo_data
from hotline.logs import get_logger
from hotline.migrate import upgrade
from hotline.pgcluster import LocalCluster
from hotline.render import render_asterisk

log = get_logger(__name__)

LIVENESS_TIMEOUT = 10.0  # seconds a running controller may leave /healthz unanswered before it is killed


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
        self.controller: subprocess.Popen[bytes] | None = None
        self.controller_started = 0.0

    # ---- set-up --------------------------------------------------------------------------------
    async def prepare(self) -> None:
        s = self.settings
        s.var_dir.mkdir(parents=True, exist_ok=True)
        if not (s.asterisk_dir / "sbin" / "asterisk").exists():
            raise StackError(f"no Asterisk at {s.asterisk_dir}: run `make asterisk` (make run does it)")
        if self.cluster:
            await asyncio.to_thread(self.cluster.start)
            await self.cluster.ensure_database()
        log.info("migrating database")
        await asyncio.to_thread(upgrade, s.db_url)
        controller = Controller(s)  # built, not started: the packages contribute to the Asterisk configuration
        try:
            try:
                log.info("accounts", mode=s.mode, result=await prepare_accounts(controller.db, s))
            except StartRefused as e:
                raise StackError(f"refusing to start: {e}") from e
            contributed: dict[str, Any] = {"ami_events": controller.ami.handled_events}
            for plugin in controller.plugins:
                contributed.update(await plugin.asterisk_context())
        finally:
            await controller.db.close()
        render_asterisk(s, contributed)
        log.info("configuration rendered", etc=str(s.asterisk_etc), agents=len(contributed.get("agents", [])))

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

    # ---- the controller ------------------------------------------------------------------------
    def start_controller(self) -> None:
        """The controller is a process of its own: it can restart (or crash) while Asterisk keeps the
        calls; on reconnecting it rebuilds its view of the live calls from AMI."""
        self.controller_started = time.monotonic()
        self.controller = subprocess.Popen(
            [sys.executable, "-m", "hotline.cli", "controller"],
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        (self.settings.var_dir / "controller.pid").write_text(str(self.controller.pid))
        log.info("controller started", pid=self.controller.pid)

    def stop_controller(self, timeout: float = 20) -> None:
        if self.controller is None or self.controller.poll() is not None:
            return
        self.controller.terminate()
        try:
            self.controller.wait(timeout)
        except subprocess.TimeoutExpired:
            self.controller.kill()
            self.controller.wait()
        log.info("controller stopped")

    def health(self) -> dict[str, Any] | None:
        """The controller's health report (also when it says 503), or None if it does not answer."""
        url = f"http://{self.settings.bind_host}:{self.settings.http_port}/healthz"
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                return json.load(r)  # type: ignore[no-any-return]
        except urllib.error.HTTPError as e:
            try:
                return json.load(e)  # type: ignore[no-any-return]
            except ValueError:
                return None
        except (OSError, ValueError):
            return None

    # ---- supervision ---------------------------------------------------------------------------
    def supervise(
        self, poll: float = 0.5, max_restarts: int = 5, window: float = 300, liveness_timeout: float = LIVENESS_TIMEOUT
    ) -> int:
        """Until SIGINT/SIGTERM: restart a child that died (Asterisk or the controller); give up, stopping
        everything, if one keeps dying. A controller that stops answering HTTP for ``liveness_timeout`` is
        killed (and so restarted): a hung controller would otherwise hold callers silent in the IVR, while
        killing it closes their AGI sockets and the dialplan's defaults route them to an agent.
        Prints the banner once the controller first reports healthy."""
        stopping: list[int] = []
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda signum, _frame: stopping.append(signum))
        restarts: dict[str, list[float]] = {"asterisk": [], "controller": []}
        announced = False
        last_answer = time.monotonic()
        while not stopping:
            time.sleep(poll)
            report = self.health()
            if report is not None:
                last_answer = time.monotonic()
                if not announced and report.get("ok"):
                    print_banner(self.settings)
                    announced = True
            elif self.controller is not None and self.controller.poll() is None:
                silent = time.monotonic() - max(last_answer, self.controller_started)
                if silent > liveness_timeout:
                    log.error("controller not answering; killing it", silent_seconds=round(silent, 1))
                    self.controller.kill()
                    self.controller.wait()
            for name, proc, start in (
                ("asterisk", self.asterisk, self.start_asterisk),
                ("controller", self.controller, self.start_controller),
            ):
                if proc is None or proc.poll() is None or stopping:
                    continue
                now = time.monotonic()
                restarts[name] = [t for t in restarts[name] if now - t < window] + [now]
                if len(restarts[name]) > max_restarts:
                    log.error(f"{name} keeps exiting; stopping everything", restarts=max_restarts, window=window)
                    return 1
                log.error(f"{name} exited unexpectedly; restarting", code=proc.returncode)
                try:
                    start()
                except StackError as e:
                    log.error(f"{name} restart failed", error=str(e))
        return 0

    def run(self) -> int:
        """Foreground: set up, start everything, supervise; Ctrl-C (or SIGTERM) stops what was started,
        in reverse order."""
        pidfile = self.settings.var_dir / "hotline.pid"
        try:
            asyncio.run(self.prepare())
            self.start_asterisk()
            self.start_controller()
            pidfile.write_text(str(os.getpid()))
            return self.supervise()
        finally:
            self.stop_controller()
            self.stop_asterisk()
            if self.cluster:
                self.cluster.stop()
            with contextlib.suppress(FileNotFoundError):
                pidfile.unlink()


async def prepare_accounts(db: Database, s: Settings) -> str:
    """Demo mode: the demo users and data. Production: no demo data, demo-flagged users left from a
    demo run disabled, and an admin (created from HOTLINE_ADMIN_PASSWORD, or already there) — else
    StartRefused."""
    passwords = Passwords(Argon2Cost(s.argon2_time_cost, s.argon2_memory_cost, s.argon2_parallelism))
    if s.mode == "demo":
        await load_demo_data(db, passwords)
        return "demo data loaded"
    disabled = await disable_demo_users(db)
    admin = s.admin_password.get_secret_value() if s.admin_password else None
    return f"{await ensure_admin(db, passwords, s.admin_username, admin)}; demo users disabled: {disabled}"


async def serve_controller(settings: Settings) -> None:
    """The controller process: AMI, FastAGI and the HTTP/WebSocket API until SIGINT/SIGTERM."""
    controller = Controller(settings)
    config = uvicorn.Config(
        controller.build_api(),
        host=settings.bind_host,
        port=settings.http_port,
        log_config=None,
        access_log=False,
        lifespan="on",
    )
    server = uvicorn.Server(config)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, lambda: setattr(server, "should_exit", True))
    await server.serve()


def print_banner(s: Settings) -> None:
    print(banner(s), flush=True)


def banner(s: Settings) -> str:
    from hotline.demo import STAFF

    url = f"http://{s.bind_host}:{s.http_port}"
    common = f"""  API             {url}/docs      (OpenAPI: {url}/openapi.json)
  Health          {url}/healthz
  Recordings      {s.recordings_dir}
Ctrl-C stops everything.
"""
    if s.mode == "production":
        return f"""
hotline is up (production mode: no demo data).
  Agent desk      {url}/agent
  Users           {url}/api/users (admin user: {s.admin_username})
{common}"""
    staff = ", ".join(f"{name} / {password}" for name, (_, password, _, _) in STAFF.items())
    rule = "*" * 78
    return f"""
{rule}
*  DEMO MODE: demo users with KNOWN PASSWORDS are enabled. Not for real calls.
*  Start with HOTLINE_MODE=production for a real installation (see README.md).
{rule}
hotline is up.
  Agent desk      {url}/agent     (log in as 1001 / agent1001; agents 1001-1010: agent<ext>)
  Demo staff      {staff}
  SIP             {s.bind_host}:{s.sip_port} (UDP)
    1. register a softphone as 1001, password sip1001 (agents 1001-1010: sip<ext>)
    2. on the desk, log in and press "Available"
    3. from a second softphone (no registration needed), call {s.hotline_number}@{s.bind_host}:{s.sip_port},
       press 0 — the desk pops the caller before the phone is answered.
       Known demo callers: 13800138000 (VIP), 13900139000, 13700137000 (key account).
{common}"""


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
