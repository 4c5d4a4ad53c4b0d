"""Screen-pop latency: an AMI AgentCalled event leaving "Asterisk" → the pop frame arriving at an agent's
desk WebSocket, through the controller's real parts (AMI client, event bus, CTI registry,
agent hub, FastAPI/uvicorn WebSocket).

"Asterisk" is a fake AMI server in a child process that writes AgentCalled events at a fixed rate,
stamping each with its send time; the desks are real WebSocket clients in another child process. The
controller runs alone in this process, as in production. Prints p50/p95/p99/max latency, the event
rate sustained, and the controller's CPU time and memory.

    python -m bench.screenpop [--events 3000] [--rate 500] [--agents 20]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import os
import resource
import socket
import statistics
import sys
import time

import uvicorn
from fastapi import FastAPI

import cti.routes
from cti.events import AgentOffered
from cti.hub import AgentHub
from cti.registry import CallRegistry
from hotline.ami import AmiClient
from hotline.auth import Access, Sessions
from hotline.auth.models import User, UserSession
from hotline.bus import EventBus
from hotline.db import Database
from hotline.logs import setup_logging


class MemorySessions(Sessions):
    """Sessions kept in memory only: the benchmark has no database (last-seen writes fail quietly)."""

    async def _store(self, row: UserSession) -> None:
        row.id = int(row.user_id)


async def desk_tokens(sessions: Sessions, agents: int) -> dict[str, str]:
    tokens = {}
    for i in range(agents):
        ext = str(1001 + i)
        user = User(id=i + 1, username=ext, display_name=ext, roles=["agent"], supervised_queues=[])
        tokens[ext] = (await sessions.issue(user, "127.0.0.1"))[0]
    return tokens


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# ---- the fake Asterisk (child process) -----------------------------------------------------------
def fake_ami(port: int, events: int, rate: float, agents: int, ready: mp.Event, go: mp.Event) -> None:
    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"Asterisk Call Manager/9.0.0\r\n")
        login = await reader.readuntil(b"\r\n\r\n")
        action_id = next(line.split(": ", 1)[1] for line in login.decode().split("\r\n") if line.startswith("ActionID"))
        writer.write(f"Response: Success\r\nActionID: {action_id}\r\nMessage: Authentication accepted\r\n\r\n".encode())
        writer.write(b"Event: FullyBooted\r\nPrivilege: system,all\r\nStatus: Fully Booted\r\n\r\n")
        await writer.drain()
        await asyncio.get_running_loop().run_in_executor(None, go.wait)
        interval = 1.0 / rate
        start = time.perf_counter()
        for i in range(events):
            target = start + i * interval
            delay = target - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            agent = 1001 + i % agents
            writer.write(
                (
                    f"Event: AgentCalled\r\nPrivilege: agent,all\r\nChannel: PJSIP/carrier-{i:08x}\r\n"
                    f"CallerIDNum: 1380013{i % 10000:04d}\r\nUniqueid: {time.time():.6f}\r\nQueue: support\r\n"
                    f"Interface: PJSIP/{agent}\r\nMemberName: Agent {agent}\r\nDestChannel: PJSIP/{agent}-{i:08x}\r\n"
                    "\r\n"
                ).encode()
            )
            await writer.drain()
        await asyncio.sleep(3)
        writer.close()

    async def main() -> None:
        server = await asyncio.start_server(serve, "127.0.0.1", port)
        ready.set()
        async with server:
            await asyncio.sleep(events / rate + 30)

    asyncio.run(main())


# ---- the desks (child process) -------------------------------------------------------------------
def desks(http_port: int, tokens: dict[str, str], agents: int, events: int, connected: mp.Event, out: mp.Queue) -> None:
    import websockets

    async def desk(agent: str, latencies: list[float], done: asyncio.Event) -> None:
        url = f"ws://127.0.0.1:{http_port}/ws/agent?token={tokens[agent]}"
        async with websockets.connect(url, max_queue=None) as ws:
            await ws.recv()  # hello
            counter["connected"] += 1
            if counter["connected"] == agents:
                connected.set()
            async for raw in ws:
                m = json.loads(raw)
                if m.get("type") == "screen_pop":
                    latencies.append(time.time() - float(m["call_id"]))
                    if sum(len(x) for x in all_latencies) >= events:
                        done.set()

    counter = {"connected": 0}
    all_latencies: list[list[float]] = [[] for _ in range(agents)]

    async def main() -> None:
        done = asyncio.Event()
        tasks = [asyncio.create_task(desk(str(1001 + i), all_latencies[i], done)) for i in range(agents)]
        try:
            await asyncio.wait_for(done.wait(), timeout=events / 50 + 60)
        except TimeoutError:
            pass
        for t in tasks:
            t.cancel()
        out.put([x for xs in all_latencies for x in xs])

    asyncio.run(main())


# ---- the controller (this process) ---------------------------------------------------------------
class NoCustomers:
    async def card_by_phone(self, number: str | None) -> None:
        return None


async def controller(args: argparse.Namespace) -> None:
    ami_port, http_port = free_port(), free_port()
    ctx = mp.get_context("spawn")
    ready, go, connected = ctx.Event(), ctx.Event(), ctx.Event()
    results: mp.Queue = ctx.Queue()
    ami_proc = ctx.Process(target=fake_ami, args=(ami_port, args.events, args.rate, args.agents, ready, go))
    ami_proc.start()
    ready.wait(10)

    bus = EventBus()
    hub = AgentHub(bus)
    hub.subscribe()
    ami = AmiClient("127.0.0.1", ami_port, "bench", "bench")
    registry = CallRegistry(bus, NoCustomers())  # type: ignore[arg-type]
    registry.register_ami(ami.on)
    # the AgentCalled-only stream never hangs up: keep the registry from growing without bound
    bus.subscribe(AgentOffered, lambda e: registry.calls.pop(e.pop.call_id, None))
    sessions = MemorySessions(Database("postgresql+asyncpg://bench@127.0.0.1:1/none"))
    tokens = await desk_tokens(sessions, args.agents)
    app = FastAPI()
    app.include_router(cti.routes.build_router(hub, Access(sessions)))
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=http_port, log_level="warning"))
    serve_task = asyncio.create_task(server.serve())
    while not server.started:  # noqa: ASYNC110 - uvicorn offers no event for this
        await asyncio.sleep(0.05)
    await ami.start()
    assert await ami.wait_connected(10), "AMI login failed"

    desk_proc = ctx.Process(target=desks, args=(http_port, tokens, args.agents, args.events, connected, results))
    desk_proc.start()
    await asyncio.get_running_loop().run_in_executor(None, connected.wait, 30)
    cpu0 = time.process_time()
    t0 = time.perf_counter()
    go.set()
    latencies = await asyncio.get_running_loop().run_in_executor(None, results.get, True, args.events / 50 + 90)
    wall = time.perf_counter() - t0
    cpu = time.process_time() - cpu0
    await ami.stop()
    server.should_exit = True
    await serve_task
    desk_proc.join(10)
    ami_proc.terminate()
    ami_proc.join(10)

    ms = sorted(x * 1000 for x in latencies)
    q = statistics.quantiles(ms, n=100)
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"screen-pop latency, AgentCalled written by AMI → frame read at the desk ({len(ms)}/{args.events} pops, "
        f"{args.agents} desks, {args.rate:.0f} events/s offered, controller logging at {args.log_level})"
    )
    print(
        f"  p50 {q[49]:.2f} ms   p95 {q[94]:.2f} ms   p99 {q[98]:.2f} ms   max {ms[-1]:.2f} ms   (target p99 < 20 ms)"
    )
    print(
        f"  controller CPU {cpu:.2f} s for {len(ms)} pops = {cpu / max(len(ms), 1) * 1e6:.0f} µs/pop; "
        f"{cpu / wall * 100:.0f} % of one core over {wall:.1f} s; peak RSS {rss_mb:.0f} MB"
    )
    print(f"  p99 / target = {q[98] / 20:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=3000)
    parser.add_argument("--rate", type=float, default=500.0)
    parser.add_argument("--agents", type=int, default=20)
    parser.add_argument("--log-level", default="INFO", help="controller log level (lines go to /dev/null)")
    args = parser.parse_args()
    sys.stderr = open(os.devnull, "w")  # log lines cost CPU, not screen space
    setup_logging(args.log_level)
    os.environ.setdefault("PYTHONHASHSEED", "0")
    asyncio.run(controller(args))


if __name__ == "__main__":
    main()
