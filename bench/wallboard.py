"""Wallboard update latency: an AMI event leaving "Asterisk" → the wallboard row it changes arriving at a
supervisor's WebSocket, through the controller's real parts (AMI client, CTI call registry, event bus, the
floor's statistics, the wallboard hub, FastAPI/uvicorn WebSocket).

"Asterisk" is a fake AMI server in a child process playing whole calls at a fixed rate (QueueCallerJoin,
AgentCalled, AgentConnect, then the hang-ups), each call's Uniqueid being the wall-clock time its
AgentCalled is written; the wallboards are real WebSocket clients in another child process, each a
supervisor of the queue, and measure the time until the agent's row turns "ringing" with that call. The
controller runs alone in this process. Prints p50/p95/p99/max latency, the controller's CPU per call.

    python -m bench.wallboard [--calls 1000] [--rate 50] [--agents 100] [--boards 10]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import os
import resource
import sys
import time
from datetime import UTC, datetime

from fastapi import FastAPI

import floor.routes
from bench.scaffold import (
    NoCustomers,
    ami_event,
    ami_login,
    controller,
    free_port,
    measured,
    memory_sessions,
    paced,
    percentiles,
    serve_fake_ami,
    tokens_for,
)
from cti.registry import CallRegistry
from floor.board import Wallboard
from floor.config import FloorConfig
from floor.feed import Floor
from floor.stats import FloorStats
from floor.supervise import Supervision
from hotline.ami import AmiClient
from hotline.auth import Access
from hotline.auth.models import User
from hotline.bus import EventBus
from hotline.logs import setup_logging


def utc_now() -> datetime:
    return datetime.now(UTC)


def supervisors(boards: int) -> list[User]:
    return [
        User(id=i + 1, username=f"sup{i}", display_name=f"sup{i}", roles=["supervisor"], supervised_queues=["support"])
        for i in range(boards)
    ]


# ---- the fake Asterisk (child process) -----------------------------------------------------------
def fake_ami(port: int, calls: int, rate: float, agents: int, ready: mp.Event, go: mp.Event) -> None:
    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await ami_login(reader, writer, go)
        async for i in paced(calls, rate):
            agent = 1001 + i % agents
            uid = f"{time.time():.6f}"
            dest = f"{uid}-a"
            chan, dest_chan = f"PJSIP/carrier-{i:08x}", f"PJSIP/{agent}-{i:08x}"
            common = {"Channel": chan, "Uniqueid": uid, "Linkedid": uid, "Queue": "support"}
            member = {"Interface": f"PJSIP/{agent}", "DestChannel": dest_chan, "DestUniqueid": dest}
            writer.write(ami_event("QueueCallerJoin", **common, CallerIDNum=f"1380013{i % 10000:04d}", Position="1"))
            writer.write(ami_event("AgentCalled", **common, **member))
            writer.write(ami_event("AgentConnect", **common, **member, HoldTime="0"))
            writer.write(ami_event("Hangup", Channel=dest_chan, Uniqueid=dest, Linkedid=uid, Cause="16"))
            writer.write(ami_event("Hangup", Channel=chan, Uniqueid=uid, Linkedid=uid, Cause="16"))
            await writer.drain()
        await asyncio.sleep(5)
        writer.close()

    serve_fake_ami(port, serve, calls / rate + 40, ready)


# ---- the wallboards (child process) --------------------------------------------------------------
def wallboards(http_port: int, tokens: list[str], calls: int, connected: mp.Event, out: mp.Queue) -> None:
    import websockets

    latencies: list[float] = []
    counts = {"connected": 0, "messages": 0}

    async def board(token: str, done: asyncio.Event) -> None:
        url = f"ws://127.0.0.1:{http_port}/ws/wallboard?token={token}"
        async with websockets.connect(url, max_queue=None) as ws:
            await ws.recv()  # the snapshot
            counts["connected"] += 1
            if counts["connected"] == len(tokens):
                connected.set()
            async for raw in ws:
                now = time.time()
                m = json.loads(raw)
                counts["messages"] += 1
                for row in m.get("agents", ()):
                    if row["state"] == "ringing" and row["call_id"]:
                        latencies.append(now - float(row["call_id"]))
                if len(latencies) >= calls * len(tokens):
                    done.set()

    async def main() -> None:
        done = asyncio.Event()
        tasks = [asyncio.create_task(board(t, done)) for t in tokens]
        try:
            await asyncio.wait_for(done.wait(), timeout=calls / 20 + 60)
        except TimeoutError:
            pass
        for t in tasks:
            t.cancel()
        out.put((latencies, counts["messages"]))

    asyncio.run(main())


# ---- the controller (this process) ---------------------------------------------------------------
async def run(args: argparse.Namespace) -> None:
    ami_port, http_port = free_port(), free_port()
    ctx = mp.get_context("spawn")
    ready, go, connected = ctx.Event(), ctx.Event(), ctx.Event()
    results: mp.Queue = ctx.Queue()
    ami_proc = ctx.Process(target=fake_ami, args=(ami_port, args.calls, args.rate, args.agents, ready, go))
    ami_proc.start()
    ready.wait(10)

    bus = EventBus()
    ami = AmiClient("127.0.0.1", ami_port, "bench", "bench")
    registry = CallRegistry(bus, NoCustomers())  # type: ignore[arg-type]
    registry.register_ami(ami.on)
    stats = FloorStats(FloorConfig(), utc_now)
    for i in range(args.agents):
        stats.member_added("support", str(1001 + i))
        stats.agent_state(str(1001 + i), "available", None, utc_now())
    feed = Floor(stats, bus)
    feed.subscribe()
    board = Wallboard(stats, bus)
    board.subscribe()
    feed.listeners.append(board.on_changes)
    sessions = memory_sessions()
    tokens = await tokens_for(sessions, supervisors(args.boards))
    supervision = Supervision(sessions.db, ami, bus, stats, lambda: None, utc_now)  # type: ignore[arg-type,return-value]
    app = FastAPI()
    app.include_router(floor.routes.build_router(board, supervision, Access(sessions)))
    async with controller(app, http_port, ami):
        board_proc = ctx.Process(target=wallboards, args=(http_port, tokens, args.calls, connected, results))
        board_proc.start()
        await asyncio.get_running_loop().run_in_executor(None, connected.wait, 30)
        window = await measured(go, results, args.calls / 20 + 90)
    board_proc.join(10)
    ami_proc.terminate()
    ami_proc.join(10)

    latencies, messages = window.result
    ms, q = percentiles(latencies)
    cpu, wall = window.cpu, window.wall
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"wallboard latency, AgentCalled written by AMI → the agent's row read at a wallboard "
        f"({len(ms)}/{args.calls * args.boards} rows, {args.boards} boards, {args.agents} agents, "
        f"{args.rate:.0f} calls/s × 5 events, {messages} messages received)"
    )
    print(f"  p50 {q[49]:.2f} ms   p95 {q[94]:.2f} ms   p99 {q[98]:.2f} ms   max {ms[-1]:.2f} ms")
    print(
        f"  controller CPU {cpu:.2f} s for {args.calls} calls = {cpu / max(args.calls, 1) * 1e3:.2f} ms/call; "
        f"{cpu / wall * 100:.0f} % of one core over {wall:.1f} s; peak RSS {rss_mb:.0f} MB"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=1000)
    parser.add_argument("--rate", type=float, default=50.0)
    parser.add_argument("--agents", type=int, default=100)
    parser.add_argument("--boards", type=int, default=10)
    parser.add_argument("--log-level", default="INFO", help="controller log level (lines go to /dev/null)")
    args = parser.parse_args()
    sys.stderr = open(os.devnull, "w")  # log lines cost CPU, not screen space
    setup_logging(args.log_level)
    asyncio.run(run(args))


if __name__ == "__main__":
    main()
