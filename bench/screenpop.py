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
import sys
import time

from fastapi import FastAPI

import cti.routes
from bench.scaffold import (
    NoCustomers,
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
from cti.events import AgentOffered
from cti.hub import AgentHub
from cti.registry import CallRegistry
from hotline.ami import AmiClient
from hotline.auth import Access
from hotline.auth.models import User
from hotline.bus import EventBus
from hotline.logs import setup_logging


# ---- the fake Asterisk (child process) -----------------------------------------------------------
def fake_ami(port: int, events: int, rate: float, agents: int, ready: mp.Event, go: mp.Event) -> None:
    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await ami_login(reader, writer, go)
        async for i in paced(events, rate):
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

    serve_fake_ami(port, serve, events / rate + 30, ready)


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
def agent_users(agents: int) -> list[User]:
    return [
        User(id=i + 1, username=str(1001 + i), display_name=str(1001 + i), roles=["agent"], supervised_queues=[])
        for i in range(agents)
    ]


async def run(args: argparse.Namespace) -> None:
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
    sessions = memory_sessions()
    users = agent_users(args.agents)
    tokens = dict(zip((u.username for u in users), await tokens_for(sessions, users), strict=True))
    app = FastAPI()
    app.include_router(cti.routes.build_router(hub, Access(sessions)))
    async with controller(app, http_port, ami):
        desk_proc = ctx.Process(target=desks, args=(http_port, tokens, args.agents, args.events, connected, results))
        desk_proc.start()
        await asyncio.get_running_loop().run_in_executor(None, connected.wait, 30)
        window = await measured(go, results, args.events / 50 + 90)
    desk_proc.join(10)
    ami_proc.terminate()
    ami_proc.join(10)

    ms, q = percentiles(window.result)
    cpu, wall = window.cpu, window.wall
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
    asyncio.run(run(args))


if __name__ == "__main__":
    main()
