"""The ACD over the real database, AMI faked at its boundary: decisions stored with their reasons, live agent
states from app_queue's events (ringing, on call, wrap-up until the disposition, ring-no-answer pause),
states rebuilt from QueueStatus, callbacks that keep their place and survive a restart, the voicemail exit."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from acd.callbacks import QUIET_RECHECK, CallbackService
from acd.interface import CallbackRequest, RoutingRequest
from acd.models import AgentStateLog, CallbackRow, Disposition
from acd.plugin import AcdPlugin
from crm_bridge.schemas import CustomerCard
from hotline.db import Database
from tests.integration.appkit import FakeAmi, Kit, app_kit
from tests.integration.waiting import until


class StatusAmi(FakeAmi):
    """QueueStatus answers with the scripted members and waiting callers."""

    def __init__(self) -> None:
        super().__init__()
        self.status: list[dict[str, Any]] = []

    async def action(self, name: str, as_list: bool = False, **fields: Any) -> dict[str, Any]:
        answer = await super().action(name, as_list, **fields)
        if name == "QueueStatus":
            return {"Response": "Success", "events": list(self.status)}
        return answer


@pytest.fixture
async def kit(db: Database, pg_url: str, tmp_path: Path) -> AsyncIterator[Kit]:
    async with app_kit(pg_url, tmp_path) as k:
        k.ami = StatusAmi()
        acd(k).agents.ami = k.ami  # type: ignore[assignment]
        yield k


def acd(kit: Kit) -> AcdPlugin:
    plugin = kit.controller.plugin("acd")
    assert isinstance(plugin, AcdPlugin)
    return plugin


async def drained(kit: Kit) -> None:
    await until(lambda: kit.controller.core.outbox.stats.pending == 0)


async def test_decisions_are_stored_with_their_reasons_and_served_to_supervisors(kit: Kit, db: Database) -> None:
    vip = CustomerCard(id=5, name="Zhang Wei", phone="+8613800138000", tier="vip", dedicated_agent="1001")
    await kit.client.post("/api/agents/me/login", headers=await kit.login("1001"))  # 1001 is free
    decision = await acd(kit).router.decide(RoutingRequest(call_id="call-9", customer=vip, intent="complaint"))
    assert (decision.queue, decision.priority, decision.preferred_agent) == ("complaints", 10, "1001")
    await acd(kit).router.settle()
    await drained(kit)
    r = await kit.client.get("/api/calls/call-9/routing", headers=await kit.login("demo-supervisor"))
    assert r.status_code == 200
    (stored,) = r.json()
    assert (stored["tier"], stored["queue"], stored["priority"]) == ("vip", "complaints", 10)
    assert (stored["preferred_agent"], stored["preferred_reason"], stored["max_penalty"]) == ("1001", "dedicated", 1)
    assert [x["kind"] for x in stored["reasons"]] == ["tier", "skill", "dedicated", "skill", "overflow"]
    r = await kit.client.get("/api/calls/call-9/routing", headers=await kit.login("1001"))
    assert r.status_code == 403
    config = (await kit.client.get("/api/routing/config", headers=await kit.login("demo-admin"))).json()
    assert config["tiers"]["vip"] == {"priority": 10, "green": True, "queue": None}


async def test_an_agents_call_from_ring_to_disposition(kit: Kit, db: Database) -> None:
    client, ami = kit.client, kit.ami
    h = await kit.login("1001")
    await client.post("/api/agents/me/login", headers=h)
    floor = acd(kit).floor
    agents = acd(kit).agents
    call = {"Queue": "complaints", "Interface": "PJSIP/1001", "Linkedid": "L1", "Uniqueid": "L1"}
    floor.on_AgentCalled(call)
    await floor.settle()
    assert agents.live["1001"].state == "ringing" and not agents.is_free("1001")
    floor.on_AgentConnect(call)
    await floor.settle()
    assert (await client.get("/api/agents/me", headers=h)).json()["state"] == "on_call"
    floor.on_Hold({"Channel": "PJSIP/1001-00000007", "Linkedid": "L1"})
    await floor.settle()
    assert agents.live["1001"].state == "on_hold"
    floor.on_Unhold({"Channel": "PJSIP/1001-00000007", "Linkedid": "L1"})
    ami.actions.clear()
    floor.on_AgentComplete(call)
    await floor.settle()
    # complaints need a disposition: the agent is paused in every queue until it comes
    me = (await client.get("/api/agents/me", headers=h)).json()
    assert (me["state"], me["pause_reason"]) == ("wrap_up", "wrap-up")
    assert {a["Queue"] for a in ami.actions if a["Action"] == "QueuePause" and a["Paused"] == "true"} == {
        "support",
        "complaints",
        "english",
        "key_accounts",
        "direct-1001",
    }
    r = await client.post("/api/agents/me/disposition", headers=h, json={"code": "resolved", "note": "refund"})
    assert r.status_code == 200 and r.json()["state"] == "available" and r.json()["call_id"] == "L1"
    assert ami.actions[-1]["Action"] == "QueuePause" and ami.actions[-1]["Paused"] == "false"
    await drained(kit)
    async with db.session() as s:
        states = [
            st.value for st in (await s.execute(select(AgentStateLog.state).order_by(AgentStateLog.id))).scalars()
        ]
        disposition = (await s.execute(select(Disposition))).scalar_one()
    assert states == ["available", "ringing", "on_call", "on_hold", "on_call", "wrap_up", "available"]
    assert (disposition.agent, disposition.call_id, disposition.queue, disposition.code) == (
        "1001",
        "L1",
        "complaints",
        "resolved",
    )


async def test_a_queue_without_wrapup_frees_the_agent_and_ring_no_answer_pauses(kit: Kit) -> None:
    h = await kit.login("1002")
    await kit.client.post("/api/agents/me/login", headers=h)
    floor, agents = acd(kit).floor, acd(kit).agents
    call = {"Queue": "support", "Interface": "PJSIP/1002", "Linkedid": "L2"}
    for handler in (floor.on_AgentCalled, floor.on_AgentConnect, floor.on_AgentComplete):
        handler(call)
    await floor.settle()
    assert agents.live["1002"].state == "available"
    floor.on_AgentCalled(call | {"Linkedid": "L3"})
    floor.on_AgentRingNoAnswer(call | {"Linkedid": "L3", "RingTime": "15"})
    await floor.settle()
    me = (await kit.client.get("/api/agents/me", headers=h)).json()
    assert (me["state"], me["pause_reason"]) == ("paused", "no_answer")
    r = await kit.client.post("/api/agents/me/disposition", headers=h, json={"code": "x", "call_id": None})
    assert r.status_code == 200 and r.json()["state"] == "paused"  # a disposition does not end a pause


async def test_states_are_rebuilt_from_asterisk_after_a_restart(kit: Kit) -> None:
    h = await kit.login("1001")
    await kit.client.post("/api/agents/me/login", headers=h)
    ami: StatusAmi = kit.ami  # type: ignore[assignment]
    queues = ["support", "complaints", "english", "key_accounts", "direct-1001"]
    ami.status = [
        {"Event": "QueueMember", "Queue": q, "Location": "PJSIP/1001", "Status": "2", "InCall": "1", "Paused": "0"}
        for q in queues
    ]
    await acd(kit).agents.reconcile()
    assert (await kit.client.get("/api/agents/me", headers=h)).json()["state"] == "on_call"
    ami.status = [
        {
            "Event": "QueueMember",
            "Queue": q,
            "Location": "PJSIP/1001",
            "Status": "1",
            "Paused": "1",
            "PausedReason": "wrap-up",
        }
        for q in queues
    ]
    await acd(kit).agents.reconcile()
    assert (await kit.client.get("/api/agents/me", headers=h)).json()["state"] == "wrap_up"
    assert not [a for a in ami.actions if a["Action"] == "QueueAdd" and a.get("Paused") == "false"][5:]


async def test_callbacks_wait_in_the_queue_at_their_place_and_survive_restarts(kit: Kit, db: Database) -> None:
    plugin = acd(kit)
    ami: StatusAmi = kit.ami  # type: ignore[assignment]
    joined = datetime.now(UTC) - timedelta(seconds=100)
    plugin.callbacks.joined["C1"] = (joined, 3)  # the caller had waited 100 s at priority 3 before asking
    view = await plugin.callbacks.request(
        CallbackRequest(number="+8613900139000", queue="support", reason="long_wait", call_id="C1")
    )
    assert view.state == "pending"
    # a restarted controller finds it: a new service over the same database
    again = CallbackService(db, plugin.agents, plugin.queues, plugin.rules, plugin.router.schedules)
    assert [c.id for c in await again.open_list()] == [view.id]
    # two callers wait at priority 3: one since 150 s (ahead of the request), one since 30 s (behind it)
    ami.status = [
        {"Event": "QueueEntry", "Queue": "support", "Wait": "150", "Priority": "3", "Uniqueid": "W1"},
        {"Event": "QueueEntry", "Queue": "support", "Wait": "30", "Priority": "3", "Uniqueid": "W2"},
        {"Event": "QueueEntry", "Queue": "support", "Wait": "500", "Priority": "0", "Uniqueid": "W3"},
    ]
    assert await again.tick() == 1
    originate = next(a for a in ami.actions if a["Action"] == "Originate")
    assert originate["Channel"] == f"Local/{view.id}@hotline-callback-wait/n"
    assert (originate["Context"], originate["ChannelId"]) == ("hotline-callback", f"callback-{view.id}-1")
    variables = dict(v.split("=", 1) for v in originate["Variable"].split(","))
    assert variables["_HOTLINE_CALLBACK_QUEUE"] == "support" and variables["_HOTLINE_CALLBACK_PRIO"] == "3"
    assert variables["_HOTLINE_CALLBACK_POSITION"] == "2"  # behind W1 only
    assert variables["_HOTLINE_CALLBACK_DIAL"] == "PJSIP/carrier/sip:+8613900139000@127.0.0.1:5080"
    # while its placeholder waits in the queue, nothing more is originated
    ami.status.append(
        {"Event": "QueueEntry", "Queue": "support", "Wait": "5", "Priority": "3", "Uniqueid": f"callback-{view.id}-1-q"}
    )
    assert await again.tick() == 0
    listed = (await kit.client.get("/api/callbacks", headers=await kit.login("1001"))).json()
    assert [(c["id"], c["state"]) for c in listed] == [(view.id, "queued")]
    # Asterisk restarted: the placeholder is gone, and is queued again at its place (W1 gone too now)
    ami.status = [{"Event": "QueueEntry", "Queue": "support", "Wait": "30", "Priority": "3", "Uniqueid": "W2"}]
    async with db.session() as s:
        row = await s.get(CallbackRow, view.id)
        assert row is not None
        row.updated_at = datetime.now(UTC) - timedelta(minutes=1)
        await s.commit()
    assert await again.tick() == 1
    second = [a for a in ami.actions if a["Action"] == "Originate"][-1]
    assert second["ChannelId"] == f"callback-{view.id}-2" and "_HOTLINE_CALLBACK_POSITION=1" in second["Variable"]
    # the first placeholder's end is stale; an agent answers the second, then the customer
    await again.on_OriginateResponse({"Response": "Failure", "Uniqueid": f"callback-{view.id}-1", "Reason": "0"})
    await again.on_AgentConnect({"Linkedid": f"callback-{view.id}-2", "Interface": "PJSIP/1003", "Queue": "support"})
    await again.on_UserEvent({"UserEvent": "HotlineCallback", "Id": str(view.id), "Status": "AGENT_ANSWERED"})
    await again.on_UserEvent({"UserEvent": "HotlineCallback", "Id": str(view.id), "Status": "ANSWER"})
    async with db.session() as s:
        row = await s.get(CallbackRow, view.id)
        assert row is not None and (row.state, row.agent, row.attempts) == ("done", "1003", 2)
        assert (row.place_at, row.priority) == (joined, 3)


async def test_a_failed_callback_is_tried_again_later_and_click_to_dial(kit: Kit, db: Database) -> None:
    service = acd(kit).callbacks
    view = await service.request(CallbackRequest(number="13700137000", queue="support"))
    h = await kit.login("1002")
    await kit.client.post("/api/agents/me/login", headers=h)
    r = await kit.client.post(f"/api/callbacks/{view.id}/dial", headers=h)
    assert r.status_code == 200 and r.json()["state"] == "dialling"
    assert (await kit.client.post(f"/api/callbacks/{view.id}/dial", headers=h)).status_code == 409
    await service.on_OriginateResponse({"Response": "Failure", "Uniqueid": f"callback-{view.id}-1", "Reason": "3"})
    async with db.session() as s:
        row = await s.get(CallbackRow, view.id)
        assert row is not None and row.state == "pending" and row.not_before is not None
        assert "no agent answered" in (row.last_error or "")
    assert await service.tick() == 0  # not before its retry time
    assert acd(kit).agents.is_free("1002")


async def test_callback_ticks_read_the_database_only_while_a_request_may_be_due(kit: Kit, db: Database) -> None:
    plugin = acd(kit)
    now = [datetime.now(UTC)]
    service = CallbackService(db, plugin.agents, plugin.queues, plugin.rules, plugin.router.schedules, lambda: now[0])
    assert await service.tick() == 0 and service.looks == 1  # nothing open: quiet from now on
    now[0] += timedelta(seconds=30)
    assert await service.tick() == 0 and service.looks == 1
    later = now[0] + timedelta(seconds=20)
    view = await service.request(CallbackRequest(number="13700137000", queue="support", not_before=later))
    assert await service.tick() == 0 and service.looks == 2  # the request woke it: not due yet
    now[0] += timedelta(seconds=10)
    assert await service.tick() == 0 and service.looks == 2  # quiet until its time
    now[0] = later
    assert await service.tick() == 1 and service.looks == 3
    originate = [a for a in kit.ami.actions if a["Action"] == "Originate"][-1]
    assert originate["ChannelId"] == f"callback-{view.id}-1"
    await service.on_UserEvent({"UserEvent": "HotlineCallback", "Id": str(view.id), "Status": "ANSWER"})
    assert await service.tick() == 0 and service.looks == 4  # its end woke the ticks: nothing left, quiet again
    # a request written behind this service's back (another controller) is found on the periodic re-look
    other = CallbackService(db, plugin.agents, plugin.queues, plugin.rules, plugin.router.schedules, lambda: now[0])
    await other.request(CallbackRequest(number="13700137001", queue="support"))
    now[0] += timedelta(seconds=QUIET_RECHECK - 1)
    assert await service.tick() == 0 and service.looks == 4
    now[0] += timedelta(seconds=1)
    assert await service.tick() == 1 and service.looks == 5


async def test_a_voicemail_becomes_a_work_order(kit: Kit) -> None:
    vm = acd(kit).voicemail
    await vm.on_UserEvent({"UserEvent": "HotlineVoicemail", "Status": "FAILED", "Linkedid": "V0"})
    await vm.on_UserEvent(
        {
            "UserEvent": "HotlineVoicemail",
            "Status": "SUCCESS",
            "Caller": "13900139000",
            "Customer": "",
            "Linkedid": "V1",
        }
    )
    assert vm.opened == 1
    r = await kit.client.get("/api/work-orders", headers=await kit.login("demo-admin"))
    assert r.status_code == 200
    orders = r.json()["items"] if isinstance(r.json(), dict) else r.json()
    assert any(o["subject"] == "Voicemail from 13900139000: call back" for o in orders)
