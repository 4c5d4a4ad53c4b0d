"""The whole system on one machine: PostgreSQL, Asterisk and the controller, set up and supervised.

``prepare`` is idempotent (cluster, database, migrations, the mode's accounts — demo data in demo mode,
an admin and no demo user in production —, Asterisk config, Asterisk's unprivileged user and its
directories); ``run`` starts Asterisk and the controller and supervises them until SIGINT/SIGTERM, then
stops everything it started, in reverse order.

The supervisor acts on the controller's liveness only (``/livez``: is its loop alive?), never on its
readiness: a database or AMI problem shows in ``/healthz`` as "degraded" and is no reason to restart
anything. A child that dies is restarted with exponential back-off, for ever; Asterisk, which holds the
calls, is stopped by SIGINT/SIGTERM and nothing else.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import uvicorn

from hotline.app import Controller
from hotline.auth import Argon2Cost, Passwords
from hotline.auth.bootstrap import StartRefused, disable_demo_users, ensure_admin
from hotline.config import Settings
from hotline.db import Database
from hotline.demo import load_demo_data
from hotline.httpserver import Server
from hotline.logs import get_logger
from hotline.migrate import upgrade
from hotline.pgcluster import ClusterError, LocalCluster
from hotline.render import ASTERISK_VAR_DIRS, render_asterisk
from hotline.runas import Account, asterisk_account, give, make_readable, place_dirs

log = get_logger(__name__)

LIVENESS_TIMEOUT = 10.0  # seconds a running controller may leave /livez unanswered before it is killed
# seconds between /livez probes: each costs the controller ~0.6 ms of CPU (a connection, a request); at the
# children's 0.5 s poll they were a tenth of an idle controller's CPU, and five probes fit in the timeout anyway
LIVENESS_EVERY = 2.0


class StackError(RuntimeError):
    pass


@dataclass
class RestartPolicy:
    """When to start a child again after it exited: ``base`` seconds, doubled for each exit in a row, at
    most ``cap``; a child that ran ``healthy_after`` seconds before exiting starts again from ``base``.
    Pure (the caller passes the clock), so it is tested without waiting."""

    base: float = 1.0
    cap: float = 60.0
    healthy_after: float = 60.0
    failures: int = 0  # exits in a row
    started_at: float | None = None

    def started(self, now: float) -> None:
        self.started_at = now

    def next_delay(self, now: float) -> float:
        """The child exited (or failed to start) at ``now``: seconds to wait before starting it again."""
        if self.started_at is not None and now - self.started_at >= self.healthy_after:
            self.failures = 0
        delay = min(self.cap, self.base * 2**self.failures)
        self.failures += 1
        self.started_at = None
        return delay


class Supervised:
    """One child under supervision: ``problem()`` says what is wrong with it (None while it is fine);
    when something is, it is started again after the policy's delay, and again, for ever."""

    def __init__(
        self,
        name: str,
        problem: Callable[[], str | None],
        start: Callable[[], None],
        policy: RestartPolicy | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.name = name
        self.problem = problem
        self.start = start
        self.policy = policy or RestartPolicy()
        self.clock = clock
        self.restart_at: float | None = None
        self.restarts = 0

    def started(self) -> None:
        self.policy.started(self.clock())

    def poll(self) -> None:
        now = self.clock()
        if self.restart_at is None:
            problem = self.problem()
            if problem is None:
                return
            self._schedule(now, problem)
            return
        if now < self.restart_at:
            return
        self.restart_at = None
        self.restarts += 1
        log.warning(f"restarting {self.name}", attempt=self.policy.failures)
        self.policy.started(now)
        try:
            self.start()
        except (StackError, ClusterError, OSError, subprocess.SubprocessError) as e:
            self._schedule(self.clock(), f"restart failed: {e}")

    def _schedule(self, now: float, problem: str) -> None:
        delay = self.policy.next_delay(now)
        self.restart_at = now + delay
        log.error(f"{self.name} {problem}; starting it again in {delay:g} s", exits_in_a_row=self.policy.failures)


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
        self.account: Account | None = None  # Asterisk's unprivileged user, when started by root

    # ---- set-up --------------------------------------------------------------------------------
    async def prepare(self) -> None:
        s = self.settings
        s.var_dir.mkdir(parents=True, exist_ok=True)
        if not (s.asterisk_dir / "sbin" / "asterisk").exists():
            raise StackError(f"no Asterisk at {s.asterisk_dir}: run `make asterisk` (make run does it)")
        self.account = await asyncio.to_thread(asterisk_account, s.asterisk_user)
        if self.account:
            await asyncio.to_thread(place_dirs, s.var_dir, [*ASTERISK_VAR_DIRS, "prompts"], self.account)
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
        render_asterisk(s, contributed, run_as=self.account)
        if self.account:
            await asyncio.to_thread(self._give_asterisk_its_dirs, self.account)
        log.info(
            "configuration rendered",
            etc=str(s.asterisk_etc.resolve()),
            agents=len(contributed.get("agents", [])),
            asterisk_user=self.account.user if self.account else None,
        )

    def _give_asterisk_its_dirs(self, account: Account) -> None:
        """Asterisk owns what it writes; its configuration is readable by it alone (the controller runs as
        root and reads recordings and logs anyway); the prompts are readable by all."""
        for name in ASTERISK_VAR_DIRS:
            give(self.settings.var_dir / name, account, private=name == "asterisk-etc")
        make_readable(self.settings.prompts_dir)

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
        run_as = ["-U", self.account.user, "-G", self.account.group] if self.account else []
        with (log_dir / "asterisk-console.log").open("ab") as out:
            self.asterisk = subprocess.Popen(
                [*self.asterisk_cmd, "-f", "-n", *run_as],
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
        log.info("Asterisk started", pid=self.asterisk.pid, user=self.account.user if self.account else None)

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

    def _get(self, path: str, timeout: float = 2.0) -> dict[str, Any] | None:
        """The controller's JSON answer at ``path`` (also when it says 503), or None if it does not answer."""
        url = f"http://{self.settings.bind_host}:{self.settings.http_port}{path}"
        try:
            with urllib.request.urlopen(url, timeout=timeout) as r:
                return json.load(r)  # type: ignore[no-any-return]
        except urllib.error.HTTPError as e:
            try:
                return json.load(e)  # type: ignore[no-any-return]
            except ValueError:
                return None
        except (OSError, ValueError):
            return None

    def health(self) -> dict[str, Any] | None:
        return self._get("/healthz")

    def alive(self) -> bool:
        answer = self._get("/livez")
        return bool(answer and answer.get("alive"))

    # ---- supervision ---------------------------------------------------------------------------
    def _process_problem(self, name: str) -> Callable[[], str | None]:
        def problem() -> str | None:
            proc: subprocess.Popen[bytes] | None = getattr(self, name)
            if proc is None or proc.poll() is None:
                return None
            return f"exited (code {proc.returncode})"

        return problem

    def _postgres_problem(self) -> str | None:
        assert self.cluster is not None
        if self.cluster.postmaster_died():
            return f"postmaster (pid {self.cluster.postmaster_pid()}) died"
        return None

    def children(self) -> list[Supervised]:
        kids = [
            Supervised("asterisk", self._process_problem("asterisk"), self.start_asterisk),
            Supervised("controller", self._process_problem("controller"), self.start_controller),
        ]
        if self.cluster is not None:
            kids.insert(0, Supervised("postgresql", self._postgres_problem, self.cluster.start))
        return kids

    def supervise(
        self, poll: float = 0.5, liveness_timeout: float = LIVENESS_TIMEOUT, liveness_every: float = LIVENESS_EVERY
    ) -> int:
        """Until SIGINT/SIGTERM: restart a child that died (PostgreSQL's postmaster, Asterisk, the controller),
        with back-off, for ever. A controller that leaves ``/livez`` unanswered for ``liveness_timeout`` is
        killed (and so restarted): a hung controller would otherwise hold callers silent in the IVR, while
        killing it closes their AGI sockets and the dialplan's defaults route them to an agent.
        Prints the banner once the controller first reports ready."""
        stopping: list[int] = []
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda signum, _frame: stopping.append(signum))
        children = self.children()
        for child in children:
            child.started()
        announced = False
        silent_since: float | None = self.controller_started
        probed = 0.0
        while not stopping:
            time.sleep(poll)
            if (
                self.controller is not None
                and self.controller.poll() is None
                and time.monotonic() - probed >= liveness_every
            ):
                probed = time.monotonic()
                if self.alive():
                    silent_since = None
                else:
                    now = time.monotonic()
                    silent_since = max(silent_since or now, self.controller_started)
                    if now - silent_since > liveness_timeout:
                        log.error(
                            "controller not answering /livez; killing it", silent_seconds=round(now - silent_since, 1)
                        )
                        self.controller.kill()
                        self.controller.wait()
                        silent_since = None
            if not announced:
                report = self.health()
                if report is not None and report.get("ok"):
                    print_banner(self.settings)
                    announced = True
            for child in children:
                if stopping:
                    break
                child.poll()
        log.info("stopping on signal", signal=stopping[0])
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
    server = Server(config)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, server.request_exit)
    watch_children_by_pidfd(loop)
    freezing = asyncio.create_task(freeze_startup_heap(controller), name="freeze-startup-heap")
    try:
        await server.serve()
    finally:
        freezing.cancel()


def watch_children_by_pidfd(loop: asyncio.AbstractEventLoop) -> None:
    """Learn of a child's exit (an encoder per recording) from a pidfd on the loop. Python 3.11's default
    watcher starts a thread per child and waits, on the loop, until that thread runs; from 3.12 on, asyncio
    uses pidfds by itself (and the watcher API is deprecated, then gone)."""
    if sys.version_info >= (3, 12) or not hasattr(os, "pidfd_open"):
        return
    try:
        os.close(os.pidfd_open(os.getpid()))  # the kernel may refuse it (before Linux 5.3, some sandboxes)
    except OSError:
        return
    watcher = asyncio.PidfdChildWatcher()
    watcher.attach_loop(loop)
    asyncio.set_child_watcher(watcher)


async def freeze_startup_heap(controller: Controller) -> None:
    """Once the controller has started, hide what start-up built from the cyclic garbage collector.

    Modules, the app, menus and caches (some 200 000 objects) live as long as the process, yet every full
    collection walked them all: 80 ms of the loop each, measured (``hotline_gc_pause_longest_seconds``), and one
    comes whenever a quarter as many objects again have survived since the last. Frozen, a full collection
    walks only what calls made since. Reference counting still frees frozen objects."""
    await controller.started.wait()
    gc.collect()
    gc.freeze()
    log.info("start-up heap frozen", objects=gc.get_freeze_count())


def print_banner(s: Settings) -> None:
    print(banner(s), flush=True)


def banner(s: Settings) -> str:
    from hotline.demo import STAFF

    url = f"http://{s.bind_host}:{s.http_port}"
    common = f"""  Back office     {url}/workorders (work orders, SLA clocks)   {url}/customers (customers, grades)
  Supervisors     {url}/wallboard (live queues, listen/whisper/barge)   {url}/ivr (the IVR menu)
  Quality         {url}/recordings (play, search transcripts)   {url}/qa (monthly samples, scoring, disputes)
  Reports         {url}/reports (service level, ASA, AHT, abandons, FCR, CSAT; CSV; Erlang C staffing)
  API             {url}/docs      (OpenAPI: {url}/openapi.json)
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
       Known demo callers: 13800138000 (VIP, open work orders, a damaged parcel), 13900139000
       (parcel held in customs), 13700137000 (key account, dedicated agent 1001), 13600136000.
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
