"""The agents' REST API over the real database, with AMI faked at its boundary."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

import acd.routes
from acd.events import AgentStateChanged
from acd.models import Agent, AgentStateLog
from acd.service import AgentService
from hotline.ami import AmiActionError, AmiUnavailable
from hotline.app import install_error_handler
from hotline.bus import EventBus
from hotline.db import Database
from hotline.demo import load_demo_data
from hotline.outbox import Outbox
from hotline.pgcluster import LocalCluster
from tests.integration.faults import stopped
from tests.integration.waiting import until

KEY = b"test-key"


class FakeAmi:
    def __init__(self) -> None:
        self.connected = True
        self.actions: list[dict[str, Any]] = []
        self.members: list[str] = []
        self.refuse: dict[str, str] = {}

    async def action(self, name: str, as_list: bool = False, **fields: Any) -> dict[str, Any]:
        if not self.connected:
            raise AmiUnavailable("down")
        self.actions.append({"Action": name, **{k: v for k, v in fields.items() if v is not None}})
        if name in self.refuse:
            raise AmiActionError(name, self.refuse[name])
        if name == "QueueStatus":
            return {"Response": "Success", "events": [{"Event": "QueueMember", "Location": m} for m in self.members]}
        return {"Response": "Success"}


async def drained(outbox: Outbox) -> None:
    await until(lambda: outbox.stats.pending == 0)


@pytest.fixture
async def setup(
    db: Database, tmp_path: Path
) -> AsyncIterator[tuple[httpx.AsyncClient, FakeAmi, AgentService, EventBus]]:
    await load_demo_data(db)
    bus, ami = EventBus(), FakeAmi()
    outbox = Outbox(tmp_path / "outbox.sqlite3", db, timeout=3.0)
    service = AgentService(db, ami, bus, "support", outbox)  # type: ignore[arg-type]
    await outbox.start()
    app = FastAPI()
    install_error_handler(app)
    app.include_router(acd.routes.build_router(service, KEY))
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
            yield client, ami, service, bus
    finally:
        await outbox.stop()


async def _token(client: httpx.AsyncClient, ext: str = "1001", password: str = "agent1001") -> dict[str, str]:
    r = await client.post("/api/session", json={"extension": ext, "password": password})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['token']}"}


async def test_session_refuses_bad_credentials_and_input(setup: Any) -> None:
    client, *_ = setup
    r = await client.post("/api/session", json={"extension": "1001", "password": "nope"})
    assert r.status_code == 401 and r.json()["message"] == "wrong extension or password"
    assert (await client.post("/api/session", json={"extension": "10; drop", "password": "x"})).status_code == 422
    assert (await client.get("/api/agents/me")).status_code == 401
    r = await client.get("/api/agents/me", headers={"Authorization": "Bearer forged.token"})
    assert r.status_code == 401 and "log in again" in r.json()["message"]


async def test_login_pause_unpause_logout_drive_the_queue_and_persist(setup: Any, db: Database) -> None:
    client, ami, service, bus = setup
    seen: list[dict[str, Any]] = []
    bus.subscribe(AgentStateChanged, lambda e: seen.append(e.model_dump()))
    h = await _token(client)
    r = await client.post("/api/agents/me/login", headers=h)
    assert r.status_code == 200 and r.json()["state"] == "available"
    assert ami.actions[-1] == {
        "Action": "QueueAdd",
        "Queue": "support",
        "Interface": "PJSIP/1001",
        "MemberName": "Wang Fang",
        "StateInterface": "PJSIP/1001",
        "Paused": "false",
    }
    r = await client.post("/api/agents/me/pause", headers=h, json={"reason": "lunch"})
    assert r.json()["state"] == "paused" and r.json()["pause_reason"] == "lunch"
    assert ami.actions[-1] == {
        "Action": "QueuePause",
        "Interface": "PJSIP/1001",
        "Queue": "support",
        "Paused": "true",
        "Reason": "lunch",
    }
    r = await client.post("/api/agents/me/unpause", headers=h)
    assert r.json()["state"] == "available"
    r = await client.post("/api/agents/me/logout", headers=h)
    assert r.json()["state"] == "logged_out"
    assert ami.actions[-1]["Action"] == "QueueRemove"
    assert [e["state"] for e in seen] == ["available", "paused", "available", "logged_out"]
    await drained(service.outbox)
    async with db.session() as s:
        log = list(await s.execute(select(AgentStateLog.state, AgentStateLog.reason).order_by(AgentStateLog.id)))
    assert [(st.value, reason) for st, reason in log] == [
        ("available", None),
        ("paused", "lunch"),
        ("available", None),
        ("logged_out", None),
    ]


async def test_phone_system_down_gives_503_and_keeps_state(setup: Any) -> None:
    client, ami, *_ = setup
    h = await _token(client)
    ami.connected = False
    r = await client.post("/api/agents/me/login", headers=h)
    assert r.status_code == 503 and "not reachable" in r.json()["message"]
    assert (await client.get("/api/agents/me", headers=h)).json()["state"] == "logged_out"
    ami.connected = True
    ami.refuse["QueueAdd"] = "Unable to add interface: Out of memory"
    r = await client.post("/api/agents/me/login", headers=h)
    assert r.status_code == 503 and "Out of memory" in r.json()["message"]


async def test_pause_requires_queue_login_and_a_sane_reason(setup: Any) -> None:
    client, *_ = setup
    h = await _token(client)
    r = await client.post("/api/agents/me/pause", headers=h, json={"reason": "lunch"})
    assert r.status_code == 409
    await client.post("/api/agents/me/login", headers=h)
    r = await client.post("/api/agents/me/pause", headers=h, json={"reason": "<script>"})
    assert r.status_code == 422


async def test_reconcile_restores_logged_in_agents_and_removes_strays(setup: Any) -> None:
    client, ami, service, _ = setup
    h = await _token(client)
    await client.post("/api/agents/me/login", headers=h)
    await client.post("/api/agents/me/pause", headers=h, json={"reason": "break"})
    ami.actions.clear()
    ami.members = ["PJSIP/1009"]  # Asterisk restarted with a member we no longer want
    await service.reconcile()
    assert {
        "Action": "QueueAdd",
        "Queue": "support",
        "Interface": "PJSIP/1001",
        "MemberName": "Wang Fang",
        "StateInterface": "PJSIP/1001",
        "Paused": "true",
        "Reason": "break",
    } in ami.actions
    assert {"Action": "QueueRemove", "Queue": "support", "Interface": "PJSIP/1009"} in ami.actions


async def test_desk_actions_work_while_the_database_is_down_and_are_logged_once_after(
    setup: Any, db: Database, pg_cluster: LocalCluster
) -> None:
    client, ami, service, _ = setup
    h = await _token(client)
    assert (await client.get("/api/agents/me", headers=h)).json()["state"] == "logged_out"  # cached now
    with stopped(pg_cluster):
        r = await client.post("/api/agents/me/login", headers=h)
        assert r.status_code == 200 and r.json()["state"] == "available"
        r = await client.post("/api/agents/me/pause", headers=h, json={"reason": "coffee"})
        assert r.status_code == 200 and r.json()["state"] == "paused"
        assert (await client.get("/api/agents/me", headers=h)).json()["pause_reason"] == "coffee"
        assert [a["Action"] for a in ami.actions] == ["QueueAdd", "QueuePause"]
        assert service.outbox.stats.pending == 2
    await drained(service.outbox)
    assert (await client.get("/api/agents/me", headers=h)).json()["state"] == "paused"
    async with db.session() as s:
        log = list(await s.execute(select(AgentStateLog.state, AgentStateLog.reason, AgentStateLog.event_id)))
        agent = (await s.execute(select(Agent).where(Agent.extension == "1001"))).scalar_one()
    assert [(st.value, reason) for st, reason, _ in log] == [("available", None), ("paused", "coffee")]
    assert all(event_id for *_, event_id in log)
    assert (agent.state.value, agent.pause_reason) == ("paused", "coffee")
    # delivered again (a crash before the local delete): still once
    from acd.service import AgentStateRecord, store_agent_states

    again = AgentStateRecord(
        event_id=log[1][2], extension="1001", state="paused", reason="coffee", at=agent.state_since
    )
    async with db.session() as s:
        await store_agent_states(s, [again])
        await s.commit()
        assert len(list(await s.execute(select(AgentStateLog.id)))) == 2
