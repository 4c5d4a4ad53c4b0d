"""The agents' REST API over the real database, with AMI faked at its boundary."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, text

from acd.events import AgentStateChanged
from acd.models import Agent, AgentStateLog
from hotline.db import Database
from hotline.outbox import Outbox
from hotline.pgcluster import LocalCluster
from tests.integration.appkit import Kit, app_kit
from tests.integration.faults import stopped
from tests.integration.waiting import until


async def drained(outbox: Outbox) -> None:
    await until(lambda: outbox.stats.pending == 0)


@pytest.fixture
async def kit(db: Database, pg_url: str, tmp_path: Path) -> AsyncIterator[Kit]:
    async with app_kit(pg_url, tmp_path) as k:
        yield k


async def test_session_refuses_bad_credentials_and_input(kit: Kit) -> None:
    client = kit.client
    r = await client.post("/api/session", json={"username": "1001", "password": "nope"})
    assert r.status_code == 401 and r.json()["message"] == "wrong username or password"
    assert (await client.post("/api/session", json={"username": "10; drop", "password": "x"})).status_code == 422
    assert (await client.get("/api/agents/me")).status_code == 401
    r = await client.get("/api/agents/me", headers={"Authorization": "Bearer forged.token"})
    assert r.status_code == 401 and "log in again" in r.json()["message"]


async def test_older_desks_sign_in_with_extension(kit: Kit) -> None:
    r = await kit.client.post("/api/session", json={"extension": "1001", "password": "agent1001"})
    assert r.status_code == 200 and r.json()["user"]["roles"] == ["agent"]


async def test_login_pause_unpause_logout_drive_the_queue_and_persist(kit: Kit, db: Database) -> None:
    client, ami, bus = kit.client, kit.ami, kit.controller.bus
    seen: list[dict[str, Any]] = []
    bus.subscribe(AgentStateChanged, lambda e: seen.append(e.model_dump()))
    h = await kit.login("1001")
    r = await client.post("/api/agents/me/login", headers=h)
    assert r.status_code == 200 and r.json()["state"] == "available"
    # every queue of the catalogue (penalty: the skill level, routing.yaml), their own queue, and queue_log lines
    adds = {a["Queue"]: a for a in ami.actions if a["Action"] == "QueueAdd"}
    assert adds["support"] == {
        "Action": "QueueAdd",
        "Queue": "support",
        "Interface": "PJSIP/1001",
        "Penalty": "0",
        "MemberName": "Wang Fang",
        "StateInterface": "PJSIP/1001",
        "Paused": "false",
    }
    assert {q: a["Penalty"] for q, a in adds.items()} == {
        "support": "0",
        "complaints": "0",
        "english": "2",
        "key_accounts": "0",
        "direct-1001": "0",
    }
    logins = [a for a in ami.actions if a["Action"] == "QueueLog"]
    assert {(a["Queue"], a["Event"], a["Interface"]) for a in logins} == {
        (q, "AGENTLOGIN", "Wang Fang") for q in ("support", "complaints", "english", "key_accounts")
    }
    r = await client.post("/api/agents/me/pause", headers=h, json={"reason": "lunch"})
    assert r.json()["state"] == "paused" and r.json()["pause_reason"] == "lunch"
    pauses = [a for a in ami.actions if a["Action"] == "QueuePause"]
    assert len(pauses) == 5 and pauses[0] == {
        "Action": "QueuePause",
        "Interface": "PJSIP/1001",
        "Queue": "complaints",
        "Paused": "true",
        "Reason": "lunch",
    }
    r = await client.post("/api/agents/me/unpause", headers=h)
    assert r.json()["state"] == "available"
    r = await client.post("/api/agents/me/logout", headers=h)
    assert r.json()["state"] == "logged_out"
    offs = {a["Queue"] for a in ami.actions if a["Action"] == "QueueLog" and a["Event"] == "AGENTLOGOFF"}
    assert offs == {"support", "complaints", "english", "key_accounts"}
    assert {a["Queue"] for a in ami.actions if a["Action"] == "QueueRemove"} == set(adds)
    assert [e["state"] for e in seen] == ["available", "paused", "available", "logged_out"]
    await drained(kit.controller.core.outbox)
    async with db.session() as s:
        log = list(await s.execute(select(AgentStateLog.state, AgentStateLog.reason).order_by(AgentStateLog.id)))
    assert [(st.value, reason) for st, reason in log] == [
        ("available", None),
        ("paused", "lunch"),
        ("available", None),
        ("logged_out", None),
    ]


async def test_an_agent_acts_only_on_their_own_queue_membership(kit: Kit) -> None:
    await kit.client.post("/api/agents/me/login", headers=await kit.login("1002"))
    assert kit.ami.actions[-1]["Interface"] == "PJSIP/1002"
    me = (await kit.client.get("/api/agents/me", headers=await kit.login("1001"))).json()
    assert me["extension"] == "1001" and me["state"] == "logged_out"


async def test_phone_system_down_gives_503_and_keeps_state(kit: Kit) -> None:
    client, ami = kit.client, kit.ami
    h = await kit.login("1001")
    ami.connected = False
    r = await client.post("/api/agents/me/login", headers=h)
    assert r.status_code == 503 and "not reachable" in r.json()["message"]
    assert (await client.get("/api/agents/me", headers=h)).json()["state"] == "logged_out"
    ami.connected = True
    ami.refuse["QueueAdd"] = "Unable to add interface: Out of memory"
    r = await client.post("/api/agents/me/login", headers=h)
    assert r.status_code == 503 and "Out of memory" in r.json()["message"]


async def test_pause_requires_queue_login_and_a_sane_reason(kit: Kit) -> None:
    client = kit.client
    h = await kit.login("1001")
    r = await client.post("/api/agents/me/pause", headers=h, json={"reason": "lunch"})
    assert r.status_code == 409
    await client.post("/api/agents/me/login", headers=h)
    r = await client.post("/api/agents/me/pause", headers=h, json={"reason": "<script>"})
    assert r.status_code == 422


async def test_reconcile_restores_logged_in_agents_and_removes_strays(kit: Kit) -> None:
    client, ami, service = kit.client, kit.ami, kit.controller.plugin("acd").agents  # type: ignore[attr-defined]
    h = await kit.login("1001")
    await client.post("/api/agents/me/login", headers=h)
    await client.post("/api/agents/me/pause", headers=h, json={"reason": "break"})
    ami.actions.clear()
    ami.members = ["PJSIP/1009"]  # Asterisk restarted with a member we no longer want
    await service.reconcile()
    assert {
        "Action": "QueueAdd",
        "Queue": "support",
        "Interface": "PJSIP/1001",
        "Penalty": "0",
        "MemberName": "Wang Fang",
        "StateInterface": "PJSIP/1001",
        "Paused": "true",
        "Reason": "break",
    } in ami.actions
    assert {"Action": "QueueRemove", "Queue": "support", "Interface": "PJSIP/1009"} in ami.actions


async def test_desk_actions_work_while_the_database_is_down_and_are_logged_once_after(
    kit: Kit, db: Database, pg_cluster: LocalCluster
) -> None:
    client, ami, outbox = kit.client, kit.ami, kit.controller.core.outbox
    h = await kit.login("1001")
    assert (await client.get("/api/agents/me", headers=h)).json()["state"] == "logged_out"  # cached now
    ami.actions.clear()
    with stopped(pg_cluster):
        r = await client.post("/api/agents/me/login", headers=h)
        assert r.status_code == 200 and r.json()["state"] == "available"
        r = await client.post("/api/agents/me/pause", headers=h, json={"reason": "training"})
        assert r.status_code == 200 and r.json()["state"] == "paused"
        assert (await client.get("/api/agents/me", headers=h)).json()["pause_reason"] == "training"
        done = [a["Action"] for a in ami.actions if a["Action"] != "QueueLog"]
        assert done == ["QueueAdd"] * 5 + ["QueuePause"] * 5  # every queue and their own
        await kit.controller.core.bus.drain()
        assert outbox.stats.pending == 2  # one record per change: the CMS takes acd's, it keeps no copy of its own
    await drained(outbox)
    assert (await client.get("/api/agents/me", headers=h)).json()["state"] == "paused"
    async with db.session() as s:
        log = list(await s.execute(select(AgentStateLog.state, AgentStateLog.reason, AgentStateLog.event_id)))
        agent = (await s.execute(select(Agent).where(Agent.extension == "1001"))).scalar_one()
    assert [(st.value, reason) for st, reason, _ in log] == [("available", None), ("paused", "training")]
    assert all(event_id for *_, event_id in log)
    assert (agent.state.value, agent.pause_reason) == ("paused", "training")
    async with db.session() as s:  # the CMS's spans, from the same records
        spans = list(
            await s.execute(text("SELECT state FROM cms_agent_states WHERE agent = '1001' ORDER BY started_at"))
        )
    assert [state for (state,) in spans][-2:] == ["available", "paused"]
    # delivered again (a crash before the local delete): still once
    from acd.service import AgentStateRecord, store_agent_states

    again = AgentStateRecord(
        event_id=log[1][2], extension="1001", state="paused", reason="training", at=agent.state_since
    )
    async with db.session() as s:
        await store_agent_states(s, [again])
        await s.commit()
        assert len(list(await s.execute(select(AgentStateLog.id)))) == 2


async def test_a_reconcile_never_removes_an_agent_who_is_logging_in(kit: Kit) -> None:
    """app_queue already has the agent (QueueAdd done) but the log-in has not recorded the state yet when a
    reconcile (an AMI reconnection) runs: the per-agent lock makes the reconcile wait and read the new
    state, so it keeps the agent instead of removing a member it believes logged out."""
    ami, service = kit.ami, kit.controller.plugin("acd").agents  # type: ignore[attr-defined]
    h = await kit.login("1001")
    original = ami.action

    async def slow_queue_add(name: str, as_list: bool = False, **fields: Any) -> dict[str, Any]:
        reply = await original(name, as_list, **fields)
        if name == "QueueAdd":
            ami.members.append(fields["Interface"])
            await asyncio.sleep(0.3)  # Asterisk has the member; our answer (and the state) come later
        if name == "QueueRemove":
            ami.members.remove(fields["Interface"])
        return reply

    ami.action = slow_queue_add  # type: ignore[method-assign]
    login = asyncio.create_task(kit.client.post("/api/agents/me/login", headers=h))
    await until(lambda: "PJSIP/1001" in ami.members)
    await service.reconcile()
    assert (await login).status_code == 200
    assert "PJSIP/1001" in ami.members
    assert {"Action": "QueueRemove", "Queue": "support", "Interface": "PJSIP/1001"} not in ami.actions


async def test_states_the_outbox_still_holds_after_a_restart_win_over_the_rows(kit: Kit, db: Database) -> None:
    """A controller restarted before the outbox delivered an agent's log-out reads the agent's row as logged in:
    the records restored at start win over it (else a reconcile puts the agent back in their queues), an older
    record does not."""
    from datetime import UTC, datetime, timedelta

    from acd.events import AgentStateRecord

    agents = kit.controller.plugin("acd").agents  # type: ignore[attr-defined]
    now = datetime.now(UTC)
    async with db.session() as s:
        await s.execute(
            text("UPDATE agents SET state = 'available', state_since = :t WHERE extension IN ('1001', '1002')"),
            {"t": now - timedelta(seconds=10)},
        )
        await s.commit()
    agents.restore(
        [
            AgentStateRecord(event_id="r1", extension="1001", state="logged_out", reason=None, at=now),
            AgentStateRecord(
                event_id="r2", extension="1002", state="paused", reason="lunch", at=now - timedelta(minutes=5)
            ),
        ]
    )
    assert (await agents.get("1001")).state.value == "logged_out"
    assert (await agents.get("1002")).state.value == "available"  # the row is newer than that record
