"""Full path vs pure dialplan: the same SIP load through hotline's FastAGI IVR (number 11183) and through an
equivalent IVR written in dialplan alone (11184, rendered into extensions_local.conf for this run), on the
same real stack, interleaved in rounds. Prints, per path: calls completed, failures, Asterisk and
controller CPU per call, PostgreSQL transactions per call, time from the caller's INVITE to an agent answering,
and from the caller entering the queue to the agent being rung (hotline's routing in front of app_queue
against a bare Queue() of the same queue); then the ratios.

The load: SIPp callers at ``--rate`` calls/s (RTP speech, RFC 2833 digit 0 after 1.5 s, 4 s of talk),
ten registered agents answered by one SIPp phone after 0.2 s of ringing. Traffic stays on 127.0.0.1;
every process is bounded in calls and time and is stopped at the end.

    python -m bench.capacity [--rate 1.0] [--seconds 30] [--rounds 2]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import socket
import statistics
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
import httpx

from acd.demo import demo_agent_password, demo_sip_password
from tests.e2e.harness import HotlineStack, Phones, free_port, media_ports

AGENTS = [str(1001 + i) for i in range(10)]
FULL = "11183"  # the hotline number: dialplan → FastAGI IVR → queue
BASELINE = "11184"  # the same IVR in dialplan alone
HOLD = 4000  # ms of talk after the key


def baseline_dialplan(welcome: Path, menu: Path) -> str:
    """The hotline IVR in dialplan alone: greet, read one digit, queue — no controller involved."""
    return f"""exten => {BASELINE},1,Set(HOTLINE_QUEUE=support)
 same => n,Set(MONITOR_FILENAME=${{HOTLINE_REC_DIR}}/${{STRFTIME(${{EPOCH}},,%Y/%m/%d)}}/${{UNIQUEID}})
 same => n,Answer()
 same => n,Read(CHOICE,{welcome}&{menu},1,,1,5)
 same => n,Set(QUEUE_PRIO=0)
 same => n,Queue(support,t,,,300)
 same => n,Hangup()
"""


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass
class PathResult:
    name: str
    calls: int = 0
    failed: int = 0
    asterisk_cpu: float = 0.0
    controller_cpu: float = 0.0
    seconds: float = 0.0  # wall time of the measured windows
    ami_events: int = 0  # AMI events the controller received during them
    transactions: int = 0  # PostgreSQL transactions (commits and rollbacks) during them
    to_agent: list[float] = field(default_factory=list)
    queue_to_ring: list[float] = field(default_factory=list)  # caller enters the queue → the agent is rung

    def ms_per_call(self, cpu: float) -> float:
        return cpu / max(self.calls, 1) * 1000

    def marginal_ms(self, idle_per_second: float) -> float:
        """The controller's CPU per call beyond what it spends idle (probes, pings) over the same time."""
        return self.ms_per_call(max(0.0, self.controller_cpu - idle_per_second * self.seconds))

    def line(self) -> str:
        p95 = statistics.quantiles(self.to_agent, n=20)[18] if len(self.to_agent) >= 2 else float("nan")
        p50 = statistics.median(self.to_agent) if self.to_agent else float("nan")
        return (
            f"{self.name:<24} calls {self.calls:>4}  failed {self.failed:>3}  "
            f"Asterisk {self.ms_per_call(self.asterisk_cpu):6.1f} ms CPU/call  "
            f"controller {self.ms_per_call(self.controller_cpu):5.1f} ms CPU/call  "
            f"AMI events/call {self.ami_events / max(self.calls, 1):5.1f}  "
            f"PostgreSQL transactions/call {self.transactions / max(self.calls, 1):5.1f}  "
            f"INVITE→agent p50 {p50:.2f} s p95 {p95:.2f} s"
        )

    def ring_line(self) -> str:
        ms = sorted(x * 1000 for x in self.queue_to_ring)
        if len(ms) < 2:
            return f"{self.name:<24} queue entry → agent rung: too few samples"
        q = statistics.quantiles(ms, n=20)
        return f"{self.name:<24} queue entry → agent rung  p50 {statistics.median(ms):6.1f} ms  p95 {q[18]:6.1f} ms"


def ami_events(stack: HotlineStack) -> int:
    """AMI events the controller has received since it started (from /healthz)."""
    health = stack.health() or {}
    return int(health.get("components", {}).get("ami", {}).get("events", 0))


def successful_calls(output: str) -> tuple[int, int]:
    """(successful, failed) from SIPp's closing statistics screen."""
    ok = re.findall(r"Successful call\s+\|\s+\d+\s+\|\s+(\d+)", output)
    bad = re.findall(r"Failed call\s+\|\s+\d+\s+\|\s+(\d+)", output)
    return (int(ok[-1]) if ok else 0), (int(bad[-1]) if bad else 0)


async def login_agents(stack: HotlineStack) -> None:
    async with httpx.AsyncClient(base_url=stack.url, timeout=10) as http:
        for ext in AGENTS:
            r = await http.post("/api/session", json={"username": ext, "password": demo_agent_password(ext)})
            token = r.json()["token"]
            r = await http.post("/api/agents/me/login", headers={"Authorization": f"Bearer {token}"})
            r.raise_for_status()


async def transactions(stack: HotlineStack) -> int:
    """Transactions the hotline database has seen since its statistics began (every client's)."""
    conn = await asyncpg.connect(stack.db_dsn)
    try:
        await conn.execute("SELECT pg_stat_clear_snapshot()")
        value = await conn.fetchval(
            "SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = current_database()"
        )
        return int(value)
    finally:
        await conn.close()


async def queue_to_ring(stack: HotlineStack, since: float) -> list[float]:
    """Per call: from the caller entering a queue (QueueCallerJoin) to the first agent leg (AgentCalled, sent as
    app_queue dials the agent's phone), both as the controller's call model stamped them."""
    conn = await asyncpg.connect(stack.db_dsn)
    try:
        rows = await conn.fetch(
            "SELECT extract(epoch FROM min(l.started_at) - i.queued_at) AS t FROM interactions i "
            "JOIN call_legs l ON l.call_id = i.call_id AND l.role = 'agent' "
            "WHERE i.queued_at IS NOT NULL AND i.started_at >= to_timestamp($1) GROUP BY i.call_id, i.queued_at",
            since,
        )
        return [float(r["t"]) for r in rows]
    finally:
        await conn.close()


async def time_to_agent(stack: HotlineStack, since: float) -> list[float]:
    conn = await asyncpg.connect(stack.db_dsn)
    try:
        rows = await conn.fetch(
            "SELECT extract(epoch FROM answered_at - started_at) AS t FROM interactions "
            "WHERE answered_at IS NOT NULL AND started_at >= to_timestamp($1)",
            since,
        )
        return [float(r["t"]) for r in rows]
    finally:
        await conn.close()


def run_load(stack: HotlineStack, workdir: Path, number: str, rate: float, seconds: int) -> tuple[int, int]:
    calls = int(rate * seconds)
    args = (
        f"-sf {Path(__file__).resolve().parents[1] / 'tests/e2e/sipp/caller.xml'} -i 127.0.0.1 "
        f"-p {free_port(socket.SOCK_DGRAM)} -mp {media_ports(stack.rtp_range)} -s {number} "
        f"-r {rate} -rp 1000 -m {calls} -l {calls} -timeout {seconds + 120} -nostdin "
        f"-set caller 13900139000 -set digit 0 -set dtmf_at 1500 -set hold {HOLD}"
    )
    r = subprocess.run(
        ["sipp", *args.split(), stack.sip], cwd=workdir, capture_output=True, text=True, timeout=seconds + 180
    )
    return successful_calls(r.stdout)


async def main(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory(prefix="hotline-bench-") as tmp:
        work = Path(tmp)
        stack = HotlineStack(work)
        stack.start()
        phones = Phones(stack, work)
        try:
            prompts = stack.var / "prompts"
            from hotline.prompts import prompt_key
            from ivr.menu import load_menu

            menu = load_menu()
            welcome = prompts / prompt_key(menu.prompts["welcome"][menu.default_language])
            main_menu = prompts / prompt_key(menu.prompts["main_menu"][menu.default_language])
            (stack.var / "asterisk-etc" / "extensions_local.conf").write_text(baseline_dialplan(welcome, main_menu))
            stack.asterisk_cli("dialplan reload")

            total = int(args.rate * args.seconds) * args.rounds * 2
            phone = phones.shared_agent_phone(
                {ext: demo_sip_password(ext) for ext in AGENTS},
                ring_ms=200,
                calls=total,
                timeout_s=args.seconds * args.rounds * 4 + 300,
            )
            await login_agents(stack)

            asterisk_pid = int((stack.var / "asterisk.pid").read_text())
            controller_pid = int((stack.var / "controller.pid").read_text())
            c0, t0 = cpu_seconds(controller_pid), time.monotonic()
            await asyncio.sleep(args.idle)  # the controller with no call: its background work alone
            idle = (cpu_seconds(controller_pid) - c0) / (time.monotonic() - t0)
            results = {FULL: PathResult("full path (FastAGI IVR)"), BASELINE: PathResult("pure dialplan IVR")}
            for round_ in range(args.rounds):
                for number, result in results.items():
                    since = time.time()
                    a0, c0, t0 = cpu_seconds(asterisk_pid), cpu_seconds(controller_pid), time.monotonic()
                    e0, x0 = ami_events(stack), await transactions(stack)
                    ok, bad = await asyncio.to_thread(run_load, stack, phone.workdir, number, args.rate, args.seconds)
                    await asyncio.sleep(3)  # the last interactions are written after the hang-ups
                    result.asterisk_cpu += cpu_seconds(asterisk_pid) - a0
                    result.controller_cpu += cpu_seconds(controller_pid) - c0
                    result.seconds += time.monotonic() - t0
                    result.ami_events += ami_events(stack) - e0
                    result.transactions += await transactions(stack) - x0 - 2  # less this bench's own two
                    result.calls += ok
                    result.failed += bad
                    result.to_agent += await time_to_agent(stack, since)
                    result.queue_to_ring += await queue_to_ring(stack, since)
                    print(f"  round {round_ + 1} {result.name}: {ok} ok, {bad} failed", flush=True)
        finally:
            phones.stop_all()
            stack.stop()

    full, base = results[FULL], results[BASELINE]
    print(
        f"\ncapacity at {args.rate} calls/s offered, {args.seconds} s × {args.rounds} rounds per path "
        f"(10 agents, 4 s talk, Asterisk + controller CPU from /proc)"
    )
    print("  " + full.line())
    print("  " + base.line())
    print("  " + full.ring_line())
    print("  " + base.ring_line())
    if len(full.queue_to_ring) >= 2 and len(base.queue_to_ring) >= 2:
        ratio = statistics.median(full.queue_to_ring) / max(statistics.median(base.queue_to_ring), 1e-9)
        print(f"  queue entry → agent rung, full/bare app_queue (p50) = {ratio:.2f} (goal ≤ 1)")
    completed = full.calls / max(base.calls, 1)
    cpu = (full.asterisk_cpu + full.controller_cpu) / max(full.calls, 1)
    cpu_base = (base.asterisk_cpu + base.controller_cpu) / max(base.calls, 1)
    share = full.controller_cpu / max(full.asterisk_cpu + full.controller_cpu, 1e-9)
    print(f"  completed calls full/dialplan = {completed:.3f} (target ≥ 0.97)")
    print(
        f"  controller idle: {idle * 1000:.1f} ms CPU/s (health probes, AMI pings, the supervisor's /livez); "
        f"beyond that, per call: full path {full.marginal_ms(idle):.2f} ms, "
        f"dialplan path {base.marginal_ms(idle):.2f} ms"
    )
    print(
        f"  CPU per call full/dialplan = {cpu / cpu_base if cpu_base else float('nan'):.3f}; "
        f"the controller's share of the full path's CPU = {share:.1%}"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rate", type=float, default=1.0)
    parser.add_argument("--seconds", type=int, default=30)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--idle", type=float, default=20.0, help="seconds of no call, to measure the idle cost")
    asyncio.run(main(parser.parse_args()))
