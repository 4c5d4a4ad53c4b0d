"""The wallboard's WebSocket and the floor's actions through a real server and database: each supervisor
sees only their queues and those queues' agents (a supervisor of another queue sees nothing of them),
agents are refused, admins see all; listen/whisper/barge ring the supervisor's phone and are audited;
a forced pause goes through the ACD."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import uvicorn
import websockets
from sqlalchemy import select
from websockets.exceptions import ConnectionClosed

from cms.models import CallLeg, Interaction
from cti.events import CallAnswered, CallQueued
from floor.models import SupervisionEntry
from hotline.db import Database
from tests.integration.appkit import OTHER_QUEUE, OTHER_SUPERVISOR, Kit, app_kit


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
async def served(db: Database, pg_url: str, tmp_path: Path) -> AsyncIterator[tuple[Kit, str]]:
    async with app_kit(pg_url, tmp_path) as kit:
        floor = kit.controller.plugin("floor")
        floor.supervision.ami = kit.ami  # type: ignore[attr-defined]
        floor.floor.ami = kit.ami  # type: ignore[attr-defined]
        stats = floor.stats  # type: ignore[attr-defined]
        stats.member_added("support", "1001")
        stats.member_added(OTHER_QUEUE, "1002")
        port = _port()
        server = uvicorn.Server(uvicorn.Config(kit.app, host="127.0.0.1", port=port, lifespan="off", log_config=None))
        task = asyncio.create_task(server.serve())
        while not server.started:  # noqa: ASYNC110 - uvicorn offers no event for this
            await asyncio.sleep(0.02)
        try:
            yield kit, f"ws://127.0.0.1:{port}/ws/wallboard"
        finally:
            server.should_exit = True
            await task


async def _token(kit: Kit, *login: str) -> str:
    return (await kit.login(*login))["Authorization"][7:]


async def _recv(ws: Any, timeout: float = 5) -> dict[str, Any]:
    return json.loads(await asyncio.wait_for(ws.recv(), timeout))  # type: ignore[no-any-return]


def _publish(kit: Kit, event: Any) -> None:
    kit.controller.core.bus.publish(event)


async def test_each_supervisor_sees_only_their_queues(served: tuple[Kit, str]) -> None:
    kit, url = served
    sup = await _token(kit, "demo-supervisor")
    other = await _token(kit, *OTHER_SUPERVISOR)
    admin = await _token(kit, "demo-admin")
    async with (
        websockets.connect(f"{url}?token={sup}") as ws_sup,
        websockets.connect(f"{url}?token={other}") as ws_other,
        websockets.connect(f"{url}?token={admin}") as ws_admin,
    ):
        snap = await _recv(ws_sup)
        assert snap["type"] == "snapshot" and snap["scope"] == ["support"]
        assert [q["queue"] for q in snap["queues"]] == ["support"]
        assert [a["agent"] for a in snap["agents"]] == ["1001"]
        snap_other = await _recv(ws_other)
        assert [q["queue"] for q in snap_other["queues"]] == [OTHER_QUEUE]
        assert [a["agent"] for a in snap_other["agents"]] == ["1002"]
        snap_admin = await _recv(ws_admin)
        assert snap_admin["scope"] is None and {a["agent"] for a in snap_admin["agents"]} == {"1001", "1002"}

        now = datetime.now(UTC)
        _publish(kit, CallQueued(call_id="s1", queue="support", at=now))
        update = await _recv(ws_sup)
        assert update["type"] == "update" and update["queues"][0]["queue"] == "support"
        assert update["queues"][0]["waiting"] == 1
        assert (await _recv(ws_admin))["queues"][0]["queue"] == "support"
        _publish(kit, CallAnswered(call_id="s1", agent="1001", queue="support", wait_seconds=2.0))
        answered = await _recv(ws_sup)
        assert answered["agents"][0]["state"] == "on_call" and answered["queues"][0]["answered"] == 1

        _publish(kit, CallQueued(call_id="b1", queue=OTHER_QUEUE, at=now))
        # the billing supervisor's next message is billing's own: nothing of support reached them
        first = await _recv(ws_other)
        assert [q["queue"] for q in first["queues"]] == [OTHER_QUEUE] and first["agents"] == []
        with pytest.raises(TimeoutError):
            await _recv(ws_sup, timeout=0.5)  # and support's supervisor hears nothing of billing

        rest = (await kit.client.get("/api/floor", headers=await kit.login(*OTHER_SUPERVISOR))).json()
        assert [q["queue"] for q in rest["queues"]] == [OTHER_QUEUE]


async def test_agents_and_strangers_are_refused(served: tuple[Kit, str]) -> None:
    kit, url = served
    for token, code in ((await _token(kit, "1001"), 4403), ("not-a-token", 4401)):
        async with websockets.connect(f"{url}?token={token}") as ws:
            with pytest.raises(ConnectionClosed) as closed:
                await _recv(ws)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == code


async def test_supervise_rings_the_supervisors_phone_and_is_audited(served: tuple[Kit, str], db: Database) -> None:
    kit, _ = served
    sup = await kit.login("demo-supervisor")
    other = await kit.login(*OTHER_SUPERVISOR)
    post = kit.client.post
    r = await post("/api/floor/agents/1001/supervise", headers=sup, json={"mode": "whisper"})
    assert r.status_code == 409, r.text  # not on a call
    _publish(kit, CallAnswered(call_id="c9", agent="1001", queue="support", wait_seconds=1.0))
    r = await post("/api/floor/agents/1001/supervise", headers=other, json={"mode": "listen"})
    assert r.status_code == 403, r.text  # 1001 is in none of billing's queues
    r = await post("/api/floor/agents/1001/supervise", headers=sup, json={"mode": "whisper"})
    assert r.status_code == 202, r.text
    originate = [a for a in kit.ami.actions if a["Action"] == "Originate"]
    assert len(originate) == 1
    assert originate[0]["Channel"] == "PJSIP/1901" and originate[0]["Exten"] == "whisper"
    assert originate[0]["Context"] == "hotline-supervise"
    assert originate[0]["Variable"] == "HOTLINE_SPY_TARGET=PJSIP/1001"
    async with db.session() as s:
        entries = list((await s.execute(select(SupervisionEntry))).scalars())
    assert [(e.supervisor, e.agent, e.action, e.call_id, e.phone, e.result) for e in entries] == [
        ("demo-supervisor", "1001", "whisper", "c9", "1901", "ringing")
    ]
    # the phone answered: the asynchronous Originate's response says so, into the same entry
    supervision = kit.controller.plugin("floor").supervision  # type: ignore[attr-defined]
    supervision.on_OriginateResponse({"Response": "Success", "Uniqueid": originate[0]["ChannelId"], "Reason": "4"})
    await asyncio.gather(*supervision._tasks)
    listed = (await kit.client.get("/api/floor/supervision-log", headers=await kit.login("demo-admin"))).json()
    assert [(e["agent"], e["action"], e["result"]) for e in listed] == [("1001", "whisper", "answered")]
    r = await post("/api/floor/agents/1001/supervise", headers=sup, json={"mode": "listen"})
    channel_id = [a for a in kit.ami.actions if a["Action"] == "Originate"][-1]["ChannelId"]
    supervision.on_OriginateResponse({"Response": "Failure", "Uniqueid": channel_id, "Reason": "0"})
    await asyncio.gather(*supervision._tasks)
    listed = (await kit.client.get("/api/floor/supervision-log", headers=await kit.login("demo-admin"))).json()
    assert listed[0]["result"] == "not answered (no such phone or not registered)"

    kit.ami.refuse["Originate"] = "Extension does not exist."
    r = await post("/api/floor/agents/1001/supervise", headers=sup, json={"mode": "barge"})
    assert r.status_code == 503
    async with db.session() as s:
        last = (await s.execute(select(SupervisionEntry).order_by(SupervisionEntry.id.desc()))).scalars().first()
    assert last is not None and last.action == "barge" and last.result.startswith("failed")


async def test_a_forced_pause_goes_through_the_acd(served: tuple[Kit, str]) -> None:
    kit, url = served
    agent = await kit.login("1001")
    assert (await kit.client.post("/api/agents/me/login", headers=agent)).status_code == 200
    sup = await _token(kit, "demo-supervisor")
    async with websockets.connect(f"{url}?token={sup}") as ws:
        await _recv(ws)
        r = await kit.client.post(
            "/api/floor/agents/1001/pause", headers={"Authorization": f"Bearer {sup}"}, json={"reason": "coaching"}
        )
        assert r.status_code == 200, r.text
        me = (await kit.client.get("/api/agents/me", headers=agent)).json()
        assert (me["state"], me["pause_reason"]) == ("paused", "coaching")
        while True:
            m = await _recv(ws)
            if m["type"] == "update" and m["agents"] and m["agents"][0]["state"] == "paused":
                break
        assert m["agents"][0]["pause_reason"] == "coaching"
        r = await kit.client.post("/api/floor/agents/1002/logout", headers={"Authorization": f"Bearer {sup}"})
        assert r.status_code == 403  # 1002 is billing's


async def test_todays_stored_calls_rebuild_the_figures(served: tuple[Kit, str], db: Database) -> None:
    kit, _ = served
    now = datetime.now(UTC)
    async with db.session() as s:
        for call_id, outcome, answered, ended, wait in (
            ("t1", "answered", True, now - timedelta(minutes=5), 4.0),
            ("t2", "abandoned", False, now - timedelta(minutes=3), 50.0),
            ("old", "abandoned", False, now - timedelta(days=1), 9.0),
        ):
            s.add(
                Interaction(
                    call_id=call_id,
                    queue="support",
                    agent="1001" if answered else None,
                    started_at=ended - timedelta(minutes=1),
                    queued_at=ended - timedelta(seconds=50),
                    answered_at=ended - timedelta(seconds=40) if answered else None,
                    ended_at=ended,
                    wait_seconds=wait,
                    talk_seconds=40.0 if answered else None,
                    outcome=outcome,
                )
            )
        s.add(
            CallLeg(
                call_id="t1",
                uniqueid="t1.1",
                role="agent",
                agent="1001",
                started_at=now - timedelta(minutes=6),
                answered_at=now - timedelta(minutes=5, seconds=40),
                ended_at=now - timedelta(minutes=5),
            )
        )
        await s.commit()
    floor = kit.controller.plugin("floor").floor  # type: ignore[attr-defined]
    floor.day_loaded = False
    await floor.load_day()
    view = floor.stats.queue_view("support")
    assert (view["answered"], view["lost"], view["answered_in_sl"]) == (1, 1, 1)  # yesterday's call is not today's
    assert view["service_level"] == 0.5 and view["asa"] == 4.0
    agent = floor.stats.agent_view("1001")
    assert (agent["handled"], agent["aht"]) == (1, 40.0)
    await floor.load_day()  # once only
    assert floor.stats.queue_view("support")["answered"] == 1


async def test_an_admin_gives_a_supervisor_a_phone(served: tuple[Kit, str]) -> None:
    kit, _ = served
    admin = await kit.login("demo-admin")
    r = await kit.client.post(
        "/api/floor/phones", headers=admin, json={"username": OTHER_SUPERVISOR[0], "extension": "1905"}
    )
    assert r.status_code == 201, r.text
    assert len(r.json()["sip_password"]) >= 20
    again = await kit.client.post("/api/floor/phones", headers=admin, json={"username": "1001", "extension": "1906"})
    assert again.status_code == 409  # an agent, not a supervisor
    taken = await kit.client.post(
        "/api/floor/phones", headers=admin, json={"username": "demo-admin", "extension": "1905"}
    )
    assert taken.status_code == 409
    phones = (await kit.client.get("/api/floor/phones", headers=admin)).json()
    assert phones == [  # by extension
        {"username": "demo-supervisor", "extension": "1901"},
        {"username": "demo-admin", "extension": "1902"},
        {"username": OTHER_SUPERVISOR[0], "extension": "1905"},
    ]
    rendered = await kit.controller.plugin("floor").asterisk_context()
    assert "1905" in [p.extension for p in rendered["supervisor_phones"]]
