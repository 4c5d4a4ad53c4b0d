"""No record is lost to a database outage, nor to a controller crash during one (real stack).

PostgreSQL is stopped, or frozen (every one of its processes SIGSTOPped, as a hung host looks), for 60 s
while one call is in talk and another is placed, answered and ended; an agent pauses and resumes meanwhile.
Both calls complete, Asterisk keeps its PID, and once the database is back every record arrives exactly
once: both interactions with their legs, both recordings' metadata, the queue_log lines of both calls
and the agent's state changes. In two variants the controller is also SIGKILLed during the outage, after
the second call ended, so its records exist only in the controller's local outbox when it dies.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
from collections.abc import Callable, Iterator

import pytest

from hotline.pgcluster import LocalCluster
from tests.e2e.conftest import SIP_PASSWORD, Api, Desk, Login, desk, fetch_all, wait
from tests.e2e.harness import HotlineStack, Phones
from tests.integration.faults import frozen, stopped

pytestmark = pytest.mark.e2e

OUTAGE = 60.0


def pid_of(stack: HotlineStack, name: str) -> int:
    return int((stack.var / f"{name}.pid").read_text())


@contextlib.contextmanager
def outage(cluster: LocalCluster, kind: str) -> Iterator[None]:
    with stopped(cluster) if kind == "stopped" else frozen(cluster):
        yield


async def wait_until(what: Callable[[], str], check: object, timeout: float, stack: HotlineStack) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if await check():  # type: ignore[operator]
            return
        await asyncio.sleep(0.5)
    raise AssertionError(f"{what()}: not within {timeout} s; health {stack.health()}\n{stack.log_tail(60)}")


async def first_pop(desks: list[Desk], after: set[str], timeout: float) -> tuple[Desk, str]:
    """The desk that gets a pop for a call not in ``after``, and that call's id."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for d in desks:
            for _, m in d.of_type("screen_pop"):
                if m["call_id"] not in after:
                    return d, m["call_id"]
        await asyncio.sleep(0.1)
    raise AssertionError("no screen-pop")


@pytest.mark.parametrize(
    ("kind", "kill_controller"),
    [("stopped", False), ("frozen", False), ("stopped", True), ("frozen", True)],
    ids=["stopped", "frozen", "stopped-controller-killed", "frozen-controller-killed"],
)
async def test_database_outage_loses_no_record(
    stack: HotlineStack, phones: Phones, api: Api, agent_session: Login, kind: str, kill_controller: bool
) -> None:
    cluster = LocalCluster(stack.var, stack.ports["pg"])
    talkers, pauser = ("1002", "1003"), "1009"
    tokens = {ext: await api.token(ext) for ext in (*talkers, pauser)}
    asterisk_pid = pid_of(stack, "asterisk")
    started = time.time()
    async with desk(stack, tokens[talkers[0]]) as d1, desk(stack, tokens[talkers[1]]) as d2:
        agents = [phones.agent_phone(ext, SIP_PASSWORD(ext), ring_ms=1000, timeout_s=200) for ext in talkers]
        for ext in talkers:
            await agent_session(ext)
        await agent_session(pauser)

        # call 1: answered before the outage, still talking through it
        long_call = phones.call(
            "13800138000", digit="0", dtmf_at_ms=2000, hold_ms=int(OUTAGE * 1000 * 0.75), trace=True
        )
        desk1, first = await first_pop([d1, d2], set(), 30)
        await desk1.wait_for("call_answered", 15)

        with outage(cluster, kind):
            t0 = time.monotonic()
            # an agent pauses and resumes while the database is away: the desk works, the changes are kept
            for action, body in (("pause", {"reason": "break"}), ("unpause", None)):
                r = await api.post(f"/api/agents/me/{action}", tokens[pauser], body)
                assert r.status_code == 200, r.text
            # call 2: placed, answered and ended during the outage
            short_call = phones.call("13900139000", digit="0", dtmf_at_ms=2000, hold_ms=8000, trace=True)
            _, second = await first_pop([d1, d2], {first}, 30)
            assert await wait(short_call.wait, 60) == 0, short_call.output()
            if kill_controller:  # the second call's records now live only in the controller's outbox
                await asyncio.sleep(2)
                killed = pid_of(stack, "controller")
                os.kill(killed, signal.SIGKILL)
            assert await wait(long_call.wait, 90) == 0, long_call.output()
            await asyncio.sleep(max(0.0, OUTAGE - (time.monotonic() - t0)))
            assert pid_of(stack, "asterisk") == asterisk_pid, "Asterisk was restarted"
            if kill_controller:
                assert pid_of(stack, "controller") != killed, "the controller was not restarted"

        for p in agents:
            assert await wait(p.wait, 60) == 0, p.output()
    for caller in (long_call, short_call):  # each caller hung up itself: nobody was dropped
        assert len(caller.sent_at("BYE")) == 1, caller.output()

    found: dict[str, int] = {}

    async def all_records_in() -> bool:
        rows = await fetch_all(stack, "SELECT call_id FROM interactions WHERE call_id = ANY($1)", [first, second])
        recs = await fetch_all(stack, "SELECT call_id FROM recordings WHERE call_id = ANY($1)", [first, second])
        done = await fetch_all(
            stack,
            "SELECT DISTINCT callid FROM queue_log WHERE callid = ANY($1) AND event LIKE 'COMPLETE%'",
            [first, second],
        )
        found.update(interactions=len(rows), recordings=len(recs), completed_in_queue_log=len(done))
        return len(rows) == 2 and len(recs) == 2 and len(done) == 2

    await wait_until(lambda: f"every record once the database is back (found {found})", all_records_in, 90, stack)
    assert pid_of(stack, "asterisk") == asterisk_pid

    rows = {
        r["call_id"]: r
        for r in await fetch_all(stack, "SELECT * FROM interactions WHERE call_id = ANY($1)", [first, second])
    }
    assert {c: (r["outcome"], r["source"]) for c, r in rows.items()} == {
        first: ("answered", "live"),
        second: ("answered", "live"),
    }
    assert {rows[first]["agent"], rows[second]["agent"]} == set(talkers)
    assert rows[first]["talk_seconds"] > OUTAGE * 0.5  # talked through the outage
    for table, column in (("interactions", "call_id"), ("recordings", "call_id")):
        counts = await fetch_all(
            stack, f"SELECT {column}, count(*) AS n FROM {table} WHERE {column} = ANY($1) GROUP BY 1", [first, second]
        )
        assert {r[column]: r["n"] for r in counts} == {first: 1, second: 1}, table
    legs = await fetch_all(stack, "SELECT call_id, role, agent FROM call_legs WHERE call_id = ANY($1)", [first, second])
    for call_id in (first, second):
        roles = sorted(r["role"] for r in legs if r["call_id"] == call_id)
        assert roles.count("caller") == 1 and roles.count("agent") >= 1, (call_id, roles)
    for call_id in (first, second):
        events = [
            r["event"]
            for r in await fetch_all(stack, "SELECT event FROM queue_log WHERE callid = $1 ORDER BY id", call_id)
        ]
        assert events.count("ENTERQUEUE") == 1 and events.count("CONNECT") == 1, events
        assert sum(e.startswith("COMPLETE") for e in events) == 1, events
    changes = await fetch_all(
        stack,
        "SELECT l.state, l.reason FROM agent_state_log l JOIN agents a ON a.id = l.agent_id "
        "WHERE a.extension = $1 AND l.at >= to_timestamp($2) ORDER BY l.at",
        pauser,
        started,
    )
    assert [(c["state"], c["reason"]) for c in changes][-2:] == [("paused", "break"), ("available", None)]
    assert sum(c["state"] == "paused" for c in changes) == 1  # exactly once
    health = stack.health()
    assert health is not None and health["outbox"]["pending"] == 0 and health["outbox"]["parked"] == 0
