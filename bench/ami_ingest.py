"""AMI ingestion on one core: recorded Asterisk event streams replayed straight into the parsers (no socket),
side by side in one run:

  (a) panoramisk 1.4 ``AMIProtocol.data_received`` → ``Manager.dispatch`` (only if panoramisk is installed;
      it is no longer a dependency)
  (b) plain ``split(b"\\r\\n\\r\\n")`` + ``partition(": ")`` into a dict for every event, then a handler look-up
  (c) ``hotline.ami.AmiClient``'s framing and dispatch, no-op handlers for the events the call model takes
  (d) ``AmiClient`` feeding the call model (``call_model_sink``), including the tasks and timers it schedules

The streams under ``bench/data/`` are the raw AMI bytes of three real answered calls (SIPp caller → IVR →
queue → agent) recorded from Asterisk 22: ``filtered`` with the event filters of ``manager.conf.j2``,
``unfiltered`` with none. Each replay copy gets its own Uniqueid/Linkedid values, so calls are distinct.

    python -m bench.ami_ingest [--events 120000] [--stream filtered|unfiltered|both]
    python -m bench.ami_ingest record --port 5038 --username hotline --secret … --seconds 30 --out FILE
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import re
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cti.registry import AMI_EVENTS
from hotline.ami import AmiClient
from hotline.amiproto import encode_action
from hotline.bus import EventBus
from hotline.logs import setup_logging

DATA = Path(__file__).resolve().parent / "data"
STREAMS = {"filtered": DATA / "ami-3calls-filtered.raw", "unfiltered": DATA / "ami-3calls-unfiltered.raw"}
CHUNK = 65536  # what one socket read brings at most
# the events the call model (cti.registry.CallRegistry) takes today
CALL_MODEL_EVENTS = AMI_EVENTS  # what the call model handles (and what the AMI user is filtered to)
ID = re.compile(rb"((?:Uniqueid|Linkedid): )(\d+\.\d+)")


# ---- the stream ------------------------------------------------------------------------------------
def replay(recording: bytes, events: int) -> tuple[list[bytes], int]:
    """The recording repeated until it holds at least ``events`` events, cut into socket-sized chunks.
    Copy i renames every channel id of the recording (k-th distinct id → ``1800000000.<i·K + k>``)."""
    parts = ID.split(recording)  # text, header, id, text, header, id, …
    ids = {v: k for k, v in enumerate(dict.fromkeys(parts[2::3]))}
    per_copy = recording.count(b"\r\n\r\n")
    copies = -(-events // per_copy)
    out = []
    for i in range(copies):
        base = i * len(ids)
        piece = [parts[0]]
        for j in range(1, len(parts), 3):
            piece += (parts[j], b"1800000000.%d" % (base + ids[parts[j + 1]]), parts[j + 2])
        out.append(b"".join(piece))
    whole = b"".join(out)
    return [whole[i : i + CHUNK] for i in range(0, len(whole), CHUNK)], per_copy * copies


# ---- the sink: re-point this at the call model ----------------------------------------------------
class NoCustomers:
    async def card_by_phone(self, number: str | None) -> None:
        return None

    async def card_by_id(self, customer_id: int) -> None:
        return None


def call_model_sink(client: AmiClient) -> Callable[[], bool]:
    """Wire the call model to ``client``'s events; returns "is everything finished" (no call left open).
    ``cti.registry.CallRegistry`` with a customer directory that knows nobody, its closing delay set to 0
    so a call's finalisation (CallEnded, the record built) happens inside the run."""
    import cti.registry
    from cti.registry import CallRegistry

    cti.registry.FINALISE_DELAY = 0.0
    registry = CallRegistry(EventBus(), NoCustomers())  # type: ignore[arg-type]
    registry.register_ami(client.on)
    return lambda: not registry.calls


# ---- the four readers -----------------------------------------------------------------------------
def noop(*_: Any) -> None:
    return None


def run_panoramisk(chunks: list[bytes]) -> int | None:
    try:
        from panoramisk import Manager
        from panoramisk.ami_protocol import AMIProtocol
    except ImportError:
        return None
    manager = Manager(loop=asyncio.new_event_loop())
    for name in CALL_MODEL_EVENTS:
        manager.register_event(name, noop)
    protocol = AMIProtocol()
    protocol.connection_made(None)
    protocol.factory = manager
    for chunk in chunks:
        protocol.data_received(chunk)
    return len(manager.callbacks)


def run_plain(chunks: list[bytes]) -> int:
    handlers: dict[str, Callable[..., Any]] = dict.fromkeys(CALL_MODEL_EVENTS, noop)
    rest = b""
    dispatched = 0
    for chunk in chunks:
        blocks = (rest + chunk).split(b"\r\n\r\n")
        rest = blocks.pop()
        for block in blocks:
            fields = {}
            for line in block.decode("utf-8", "replace").split("\r\n"):
                key, _, value = line.partition(": ")
                fields.setdefault(key, value)
            handler = handlers.get(fields.get("Event", ""))
            if handler is not None:
                handler(fields)
                dispatched += 1
    return dispatched


def run_client(chunks: list[bytes]) -> int:
    client = AmiClient("127.0.0.1", 0, "bench", "bench")
    for name in CALL_MODEL_EVENTS:
        client.on(name, noop)
    for chunk in chunks:
        client._feed(chunk)
    return client.events_dispatched


async def run_call_model(chunks: list[bytes]) -> int:
    client = AmiClient("127.0.0.1", 0, "bench", "bench")
    finished = call_model_sink(client)
    for chunk in chunks:
        client._feed(chunk)
        await asyncio.sleep(0)  # the pops' tasks and the finalising timers run as they would between reads
    for _ in range(1000):
        if finished():
            break
        await asyncio.sleep(0)
    assert finished(), "calls left open after the replay"
    return client.events_dispatched


def measure(run: Callable[[], Any]) -> tuple[float, float, Any]:
    gc.collect()
    cpu0, wall0 = time.process_time(), time.perf_counter()
    result = run()
    return time.process_time() - cpu0, time.perf_counter() - wall0, result


def bench(stream: str, events: int) -> None:
    chunks, n = replay(STREAMS[stream].read_bytes(), events)
    size = sum(len(c) for c in chunks)
    print(f"-- {stream} stream: {n:,} events ({size / 1e6:.1f} MB, {size / n:.0f} B/event) in {len(chunks)} chunks")
    rows: list[tuple[str, float, float, str]] = []
    cases: list[tuple[str, Callable[[], Any]]] = [
        ("(a) panoramisk 1.4 AMIProtocol+dispatch", lambda: run_panoramisk(chunks)),
        ("(b) plain split + partition dict", lambda: run_plain(chunks)),
        ("(c) AmiClient framing+dispatch, no-op", lambda: run_client(chunks)),
        ("(d) AmiClient → call model", lambda: asyncio.run(run_call_model(chunks))),
    ]
    for label, run in cases:
        cpu, wall, result = measure(run)
        if result is None:
            print(f"  {label:42s} panoramisk not installed: skipped")
            continue
        rows.append((label, cpu, wall, f"dispatched {result:,}" if not label.startswith("(a)") else ""))
    base = next((cpu for label, cpu, _, _ in rows if label.startswith("(b)")), None)
    for label, cpu, wall, note in rows:
        ratio = f"{base / cpu:5.2f}× (b)" if base else ""
        print(
            f"  {label:42s} {n / cpu / 1e3:7.1f} k ev/s  {cpu / n * 1e6:6.2f} µs/event  "
            f"cpu {cpu:5.2f} s wall {wall:5.2f} s  {ratio}  {note}"
        )
    by = {label[:3]: cpu for label, cpu, _, _ in rows}
    if "(a)" in by:
        print(f"  (c) is {by['(a)'] / by['(c)']:.1f}× panoramisk; (d) is {by['(a)'] / by['(d)']:.1f}× panoramisk")
    calls = n / (STREAMS[stream].read_bytes().count(b"\r\n\r\n") / 3)
    print(f"  (d) per call: {by['(d)'] / calls * 1e3:.3f} ms CPU ({calls:,.0f} calls)")


# ---- recording a stream from a real Asterisk ------------------------------------------------------
async def record(args: argparse.Namespace) -> bytes:
    """Log in as any AMI user and return every byte received after the login answer for ``--seconds``."""
    reader, writer = await asyncio.open_connection(args.host, args.port)
    await reader.readline()
    login = {"Action": "Login", "ActionID": "rec", "Username": args.username, "Secret": args.secret, "Events": "on"}
    writer.write(encode_action(login))
    answer = await reader.readuntil(b"\r\n\r\n")
    if b"Success" not in answer:
        sys.exit(f"login refused: {answer!r}")
    deadline = time.monotonic() + args.seconds
    received: list[bytes] = []
    while (left := deadline - time.monotonic()) > 0:
        try:
            data = await asyncio.wait_for(reader.read(CHUNK), left)
        except TimeoutError:
            break
        if not data:
            break
        received.append(data)
    writer.close()
    return b"".join(received)


def pin_to_one_core() -> int:
    cpu = sorted(os.sched_getaffinity(0))[-1]
    os.sched_setaffinity(0, {cpu})
    return cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command")
    rec = sub.add_parser("record", help="record a raw AMI stream")
    rec.add_argument("--host", default="127.0.0.1")
    rec.add_argument("--port", type=int, default=5038)
    rec.add_argument("--username", default="hotline")
    rec.add_argument("--secret", required=True)
    rec.add_argument("--seconds", type=float, default=30)
    rec.add_argument("--out", required=True)
    parser.add_argument("--events", type=int, default=120_000)
    parser.add_argument("--stream", choices=[*STREAMS, "both"], default="both")
    parser.add_argument("--log-level", default="INFO", help="the call model's log level (lines go to /dev/null)")
    args = parser.parse_args()
    if args.command == "record":
        Path(args.out).write_bytes(asyncio.run(record(args)))
        return
    sys.stderr = open(os.devnull, "w")  # log lines cost CPU, not screen space
    setup_logging(args.log_level)
    cpu = pin_to_one_core()
    print(f"AMI ingestion, one core (cpu {cpu}), bytes fed straight to each reader in {CHUNK // 1024} KiB chunks")
    for stream in STREAMS if args.stream == "both" else [args.stream]:
        bench(stream, args.events)


if __name__ == "__main__":
    main()
