"""The ``hotline`` command: run the stack in the foreground, or up/down in the background."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request

from pydantic import ValidationError

from hotline.config import Settings, load_settings
from hotline.logs import setup_logging
from hotline.stack import Stack, StackError, pid_alive, read_pid, serve_controller


def _get(s: Settings, path: str, timeout: float = 2.0) -> dict | None:  # type: ignore[type-arg]
    """The controller's JSON answer at ``path`` (also a 503's), or None when it does not answer."""
    try:
        with urllib.request.urlopen(f"http://{s.bind_host}:{s.http_port}{path}", timeout=timeout) as r:
            return json.load(r)  # type: ignore[no-any-return]
    except Exception as e:
        body = getattr(e, "read", None)
        if body is not None:
            try:
                return json.loads(body())  # type: ignore[no-any-return]
            except Exception:
                return None
        return None


def _health(s: Settings) -> dict | None:  # type: ignore[type-arg]
    return _get(s, "/healthz")


def summary(report: dict) -> str:  # type: ignore[type-arg]
    """One line: the overall status and each component that is not ok, with since when and why."""
    parts = [f"hotline: {report.get('status', 'ok' if report.get('ok') else 'degraded')}"]
    for name, c in sorted(report.get("components", {}).items()):
        if not c.get("ok"):
            parts.append(f"{name} {c.get('status', 'down')} since {c.get('since')}: {c.get('error')}")
    return "; ".join(parts)


def cmd_run(s: Settings, _: argparse.Namespace) -> int:
    return Stack(s).run()


def cmd_controller(s: Settings, _: argparse.Namespace) -> int:
    asyncio.run(serve_controller(s))
    return 0


def cmd_prepare(s: Settings, _: argparse.Namespace) -> int:
    stack = Stack(s)
    asyncio.run(stack.prepare())
    return 0


def cmd_up(s: Settings, args: argparse.Namespace) -> int:
    pidfile = s.var_dir / "hotline.pid"
    pid = read_pid(pidfile)
    if pid and pid_alive(pid):
        print(f"hotline already running (pid {pid})")
        return 0
    s.log_dir.mkdir(parents=True, exist_ok=True)
    with (s.log_dir / "hotline.log").open("ab") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "hotline.cli", "run"],
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    deadline = time.monotonic() + args.timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            print(f"hotline exited during start (code {proc.returncode}); see {s.log_dir / 'hotline.log'}")
            return 1
        report = _get(s, "/readyz")
        if report and report.get("ok"):  # ready: every dependency ok
            print(f"hotline is up (pid {proc.pid}); logs in {s.log_dir}")
            print(
                f"  agent desk http://{s.bind_host}:{s.http_port}/agent, dial {s.hotline_number} "
                f"at {s.bind_host}:{s.sip_port}"
            )
            return 0
        time.sleep(0.5)
    report = _health(s)
    print(f"hotline did not become ready within {args.timeout:.0f} s; {summary(report) if report else 'no answer'}")
    return 1


def cmd_down(s: Settings, args: argparse.Namespace) -> int:
    pid = read_pid(s.var_dir / "hotline.pid")
    if not pid or not pid_alive(pid):
        print("hotline is not running")
        return 0
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + args.timeout
    while pid_alive(pid) and time.monotonic() < deadline:
        time.sleep(0.2)
    if pid_alive(pid):
        print(f"hotline (pid {pid}) did not stop within {args.timeout:.0f} s")
        return 1
    print("hotline stopped")
    return 0


def cmd_status(s: Settings, _: argparse.Namespace) -> int:
    """The health report; exit 0 when ready, 1 when degraded, 2 when the controller does not answer."""
    report = _health(s)
    if report is None:
        print("hotline is not answering")
        return 2
    print(summary(report))
    print(json.dumps(report, indent=2))
    return 0 if report.get("ok") else 1


def cmd_events(s: Settings, _: argparse.Namespace) -> int:
    """Print the event catalogue (docs/EVENTS.md is this output)."""
    from hotline.app import Controller
    from hotline.catalogue import render_catalogue

    controller = Controller(s)
    print(render_catalogue(controller.bus, outbox=controller.core.outbox), end="")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="hotline", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("run", help="set up and run everything in the foreground (Ctrl-C stops)")
    sub.add_parser("prepare", help="set up only: database, migrations, demo data, Asterisk config")
    sub.add_parser("controller", help="the controller alone (AMI, FastAGI, API), for a supervisor to run")
    up = sub.add_parser("up", help="run in the background; returns once ready")
    up.add_argument("--timeout", type=float, default=180)
    down = sub.add_parser("down", help="stop what `up` started")
    down.add_argument("--timeout", type=float, default=60)
    sub.add_parser("status", help="print the health report")
    sub.add_parser("events", help="print the event catalogue: every bus event, its publisher and consumers")
    args = parser.parse_args(argv)
    try:
        settings = load_settings()
    except ValidationError as e:
        print(f"hotline: invalid configuration:\n{e}", file=sys.stderr)
        return 2
    setup_logging(settings.log_level, settings.log_json)
    commands = {
        "run": cmd_run,
        "prepare": cmd_prepare,
        "controller": cmd_controller,
        "up": cmd_up,
        "down": cmd_down,
        "status": cmd_status,
        "events": cmd_events,
    }
    try:
        return commands[args.command](settings, args)
    except StackError as e:
        print(f"hotline: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
