"""Who may call what, over every route of the app's OpenAPI document, and who may see which rows.

Roles: anonymous; agent (1001); other agent (1002); supervisor of the queue (demo-supervisor:
support); supervisor of another queue (sup-billing: billing); admin (demo-admin). Items in paths
are agent 1001's call in support (interaction c1, recording 1), so "allowed" for an item means
"theirs to see". Allowed = neither 401 nor 403; refused = 401 or 403.
"""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, text

from hotline.auth.models import User, UserSession
from hotline.db import Database
from recordings.models import RecordingAccess
from tests.integration.appkit import OTHER_SUPERVISOR, Kit, app_kit
from tests.integration.qakit import qa_form_body, qa_marks_body, seed_qa

ROLES = ("anonymous", "agent", "other_agent", "supervisor", "other_supervisor", "admin")
LOGINS = {
    "agent": ("1001", "agent1001"),
    "other_agent": ("1002", "agent1002"),
    "supervisor": ("demo-supervisor", "demo-supervisor"),
    "other_supervisor": OTHER_SUPERVISOR,
    "admin": ("demo-admin", "demo-admin"),
}
EVERYONE = set(ROLES)
SIGNED_IN = EVERYONE - {"anonymous"}
AGENTS = {"agent", "other_agent", "admin"}
SUPERVISORS = {"supervisor", "other_supervisor", "admin"}
READERS = {"agent", "other_agent", "supervisor", "other_supervisor", "admin"}
OWNER_SIDE = {"agent", "supervisor", "admin"}  # agent 1001's own call, in the supervised queue
ADMIN = {"admin"}
PATH_VALUES = {
    "call_id": "c1",
    "recording_id": "1",
    "username": "1003",
    "waybill": "7700000000016",
    "code": "BJ-CY",
    "postal_code": "100020",
    "work_order_id": "1",
    "reference": "31058266",  # 1001's pickup
    "customer_id": "1",
    "extension": "1001",
    "callback_id": "1",
    "form_id": "1",  # the demo scoring form
    "sample_id": "1",  # agent 1001's call c1, sampled (tests/integration/qakit.py)
    "evaluation_id": "1",  # its review by demo-supervisor
}
SCAN = {"kind": "in_transit", "place": "Beijing hub", "at": "2026-11-24T10:00:00+08:00"}
STAFF = READERS  # agents and supervisors (and admins)
WORK_ORDER_OWNERS = {"agent", "supervisor", "other_supervisor", "admin"}  # work order 1: opened by agent 1001
_unique = itertools.count()


def _pickup() -> dict[str, Any]:
    """A pickup ready in five minutes (outside the local pickup day it is a 422: still let in, as the matrix means)."""
    ready = datetime.now(UTC).replace(microsecond=0) + timedelta(minutes=5)
    return {
        "name": "N",
        "phone": "13800138000",
        "address": "1 Road",
        "postal_code": "100020",
        "pieces": 1,
        "weight_kg": 1.0,
        "goods": "documents",
        "destination": "Shanghai",
        "ready_at": ready.isoformat(),
        "close_at": (ready + timedelta(hours=1, minutes=5)).isoformat(),
    }


# (method, OpenAPI path) → (who is allowed, request body)
MATRIX: dict[tuple[str, str], tuple[set[str], Any]] = {
    ("GET", "/healthz"): (EVERYONE, None),
    ("GET", "/livez"): (EVERYONE, None),
    ("GET", "/readyz"): (EVERYONE, None),
    ("GET", "/metrics"): (EVERYONE, None),
    ("POST", "/api/session"): (EVERYONE, {"username": "1003", "password": "agent1003"}),
    ("GET", "/api/session"): (SIGNED_IN, None),
    ("DELETE", "/api/session"): (SIGNED_IN, None),
    ("GET", "/api/users"): (ADMIN, None),
    ("POST", "/api/users"): (
        ADMIN,
        lambda: {"username": f"new{next(_unique)}", "display_name": "N", "password": "x" * 12},
    ),
    ("GET", "/api/users/{username}"): (ADMIN, None),
    ("PATCH", "/api/users/{username}"): (ADMIN, {"display_name": "Renamed"}),
    ("PUT", "/api/users/{username}/password"): (ADMIN, {"password": "a-new-password"}),
    ("GET", "/api/users/{username}/sessions"): (ADMIN, None),
    ("DELETE", "/api/users/{username}/sessions"): (ADMIN, None),
    ("GET", "/api/agents"): (SUPERVISORS, None),
    ("POST", "/api/agents"): (ADMIN, {"username": "7001"}),
    ("GET", "/api/agents/me"): (AGENTS, None),
    ("POST", "/api/agents/me/login"): (AGENTS, None),
    ("POST", "/api/agents/me/logout"): (AGENTS, None),
    ("POST", "/api/agents/me/pause"): (AGENTS, {"reason": "break"}),
    ("POST", "/api/agents/me/unpause"): (AGENTS, None),
    ("POST", "/api/agents/me/disposition"): (AGENTS, {"code": "resolved", "call_id": "c1"}),
    ("GET", "/api/routing/config"): (SUPERVISORS, None),
    ("GET", "/api/calls/{call_id}/routing"): (SUPERVISORS, None),
    ("GET", "/api/callbacks"): (READERS, None),
    ("POST", "/api/callbacks"): (READERS, {"number": "13900139000", "queue": "support", "reason": "queue_exit"}),
    ("POST", "/api/callbacks/{callback_id}/dial"): (AGENTS, None),  # no such callback here: 404 once let in
    ("GET", "/api/interactions"): (READERS, None),
    ("GET", "/api/interactions/{call_id}"): (OWNER_SIDE, None),
    ("GET", "/api/queue-log"): (SUPERVISORS, None),
    ("GET", "/api/reports/summary"): (SUPERVISORS, None),
    ("GET", "/api/reports/staffing"): (SUPERVISORS, None),
    ("GET", "/api/recordings"): (READERS, None),
    ("GET", "/api/recordings/access-log"): (ADMIN, None),
    ("GET", "/api/recordings/{recording_id}"): (OWNER_SIDE, None),
    ("GET", "/api/recordings/{recording_id}/audio"): (OWNER_SIDE, None),
    ("GET", "/api/recordings/search"): (READERS, None),  # scoped inside like the catalogue (422 here: no q)
    ("GET", "/api/recordings/usage"): (ADMIN, None),
    # the desk's recording controls: the signed-in agent's own call only (404 here: no call)
    ("GET", "/api/calls/me/recording"): (AGENTS, None),
    ("POST", "/api/calls/me/recording/start"): (AGENTS, None),
    ("POST", "/api/calls/me/recording/pause"): (AGENTS, None),
    ("POST", "/api/calls/me/recording/resume"): (AGENTS, None),
    ("GET", "/api/admin/outbox"): (ADMIN, None),
    ("POST", "/api/admin/outbox/retry"): (ADMIN, {"ids": [1]}),
    ("GET", "/api/work-orders"): (STAFF, None),
    ("POST", "/api/work-orders"): (STAFF, {"type": "inquiry", "subject": "where is my parcel", "customer_id": 1}),
    ("GET", "/api/work-orders/catalogue"): (STAFF, None),
    ("GET", "/api/work-orders/{work_order_id}"): (STAFF, None),
    ("PATCH", "/api/work-orders/{work_order_id}"): (WORK_ORDER_OWNERS, {"notes": "called back"}),
    ("POST", "/api/work-orders/{work_order_id}/calls"): (WORK_ORDER_OWNERS, {"call_id": "c1"}),
    ("POST", "/api/work-orders/{work_order_id}/revisits"): (WORK_ORDER_OWNERS, {}),
    ("POST", "/api/pickups"): (AGENTS, _pickup),
    ("GET", "/api/pickups"): (READERS, None),
    ("GET", "/api/pickups/{reference}"): (READERS, None),
    ("POST", "/api/pickups/{reference}/state"): (OWNER_SIDE | {"other_supervisor"}, {"to": "cancelled"}),
    ("GET", "/api/shipments"): (READERS, None),
    ("GET", "/api/shipments/{waybill}"): (READERS, None),
    ("POST", "/api/shipments/{waybill}/scans"): (SUPERVISORS, SCAN),
    ("POST", "/api/shipments/import"): (ADMIN, None),
    ("POST", "/api/scans/import"): (ADMIN, None),
    ("GET", "/api/stations"): (READERS, None),
    ("GET", "/api/stations/{code}"): (READERS, None),
    ("GET", "/api/postal-codes/{postal_code}/station"): (READERS, None),
    ("GET", "/api/customers"): (READERS, None),
    ("POST", "/api/customers"): (
        SUPERVISORS,
        lambda: {"name": "New Customer", "phones": [f"1350013{next(_unique):04d}"]},
    ),
    ("POST", "/api/customers/import"): (SUPERVISORS, None),  # no file: a report of what is missing
    ("POST", "/api/customers/grading"): (SUPERVISORS, None),  # 503 here: no shipments package in the kit
    ("GET", "/api/customers/grading/runs"): (SUPERVISORS, None),
    ("GET", "/api/customers/{customer_id}"): (READERS, None),
    ("PATCH", "/api/customers/{customer_id}"): (SUPERVISORS, {"notes": "called about an invoice"}),
    ("PUT", "/api/customers/{customer_id}/tier"): (SUPERVISORS, {"tier": "vip", "reason": "board decision"}),
    ("POST", "/api/customers/{customer_id}/grade"): (SUPERVISORS, None),
    # the floor: scoped inside to the supervised queues' agents (tests/integration/test_wallboard.py)
    ("GET", "/api/floor"): (SUPERVISORS, None),
    ("POST", "/api/floor/agents/{extension}/supervise"): (SUPERVISORS, {"mode": "listen"}),
    ("POST", "/api/floor/agents/{extension}/pause"): (SUPERVISORS, {"reason": "coaching"}),
    ("POST", "/api/floor/agents/{extension}/logout"): (SUPERVISORS, None),
    ("GET", "/api/floor/supervision-log"): (ADMIN, None),
    ("GET", "/api/floor/phones"): (ADMIN, None),
    ("POST", "/api/floor/phones"): (ADMIN, lambda: {"username": "sup-billing", "extension": f"19{next(_unique):02d}"}),
    # the desk's call controls act on the signed-in agent's own call only (404 here: no call)
    ("GET", "/api/calls/me"): (AGENTS, None),
    ("POST", "/api/calls/me/hold"): (AGENTS, None),
    ("POST", "/api/calls/me/resume"): (AGENTS, None),
    ("POST", "/api/calls/me/transfer"): (AGENTS, {"kind": "queue", "target": "support"}),
    ("POST", "/api/calls/me/transfer/complete"): (AGENTS, None),
    ("POST", "/api/calls/me/transfer/cancel"): (AGENTS, None),
    ("POST", "/api/calls/me/hangup"): (AGENTS, None),
    ("GET", "/api/ivr/menu"): (SUPERVISORS, None),
    ("POST", "/api/ivr/menu/reload"): (ADMIN, None),
    ("GET", "/api/ivr/visits"): (SUPERVISORS, None),
    # quality assurance: forms read by all, published by admins; samples scored by their queues' supervisors;
    # a review acknowledged or disputed by its agent only
    ("GET", "/api/qa/forms"): (READERS, None),
    ("POST", "/api/qa/forms"): (ADMIN, qa_form_body),
    ("GET", "/api/qa/forms/{form_id}"): (READERS, None),
    ("POST", "/api/qa/forms/{form_id}/retire"): (ADMIN, None),
    ("GET", "/api/qa/samples"): (SUPERVISORS, None),
    ("POST", "/api/qa/samples"): (SUPERVISORS, {"month": "2026-11"}),
    ("GET", "/api/qa/samples/{sample_id}"): (OWNER_SIDE - {"agent"}, None),
    ("POST", "/api/qa/samples/{sample_id}/evaluations"): (OWNER_SIDE - {"agent"}, lambda: qa_marks_body(1)),
    ("GET", "/api/qa/samples/{sample_id}/calibration"): (OWNER_SIDE - {"agent"}, None),
    ("GET", "/api/qa/evaluations"): (READERS, None),
    ("GET", "/api/qa/evaluations/{evaluation_id}"): (OWNER_SIDE, None),
    ("POST", "/api/qa/evaluations/{evaluation_id}/acknowledge"): ({"agent"}, None),
    ("POST", "/api/qa/evaluations/{evaluation_id}/dispute"): ({"agent"}, {"reason": "the caller asked for it"}),
    ("POST", "/api/qa/evaluations/{evaluation_id}/resolve"): (
        OWNER_SIDE - {"agent"},
        {"outcome": "upheld", "note": "heard again"},
    ),
}


@pytest.fixture
async def kit(db: Database, pg_url: str, tmp_path: Path) -> AsyncIterator[Kit]:
    async with app_kit(pg_url, tmp_path) as k:
        await seed_qa(k)
        yield k


async def _headers(kit: Kit, role: str) -> dict[str, str]:
    if role == "anonymous":
        return {}
    return await kit.login(*LOGINS[role])


async def test_the_matrix_covers_every_operation_of_the_openapi_document(kit: Kit) -> None:
    document = (await kit.client.get("/openapi.json")).json()
    operations = {(m.upper(), p) for p, item in document["paths"].items() for m in item}
    assert operations == set(MATRIX), "every route needs a row in MATRIX (and every row a route)"


@pytest.mark.parametrize(("method", "path"), sorted(MATRIX))
async def test_authorization_matrix(kit: Kit, method: str, path: str) -> None:
    allowed, body = MATRIX[(method, path)]
    url = path.format(**PATH_VALUES)
    outcome: dict[str, int] = {}
    for role in ROLES:
        headers = await _headers(kit, role)  # a fresh session per call: DELETE /api/session revokes it
        payload = body() if callable(body) else body
        r = await kit.client.request(method, url, headers=headers, json=payload)
        outcome[role] = r.status_code
    refused = {role for role, code in outcome.items() if code in (401, 403)}
    assert refused == EVERYONE - allowed, outcome
    assert all(code < 500 or code == 503 for code in outcome.values()), outcome  # 503: /healthz, no AMI here


async def test_an_agent_reads_only_their_own_calls_and_recordings(kit: Kit) -> None:
    a, b = await kit.login("1001"), await kit.login("1002")
    get = kit.client.get
    assert [i["call_id"] for i in (await get("/api/interactions", headers=a)).json()] == ["c1"]
    assert {i["call_id"] for i in (await get("/api/interactions", headers=b)).json()} == {"c2", "c3"}
    assert [r["call_id"] for r in (await get("/api/recordings", headers=a)).json()] == ["c1"]
    assert (await get("/api/interactions/c2", headers=a)).status_code == 403
    assert (await get("/api/recordings/2", headers=a)).status_code == 403
    assert (await get("/api/recordings/2/audio", headers=a)).status_code == 403
    assert (await get("/api/recordings/2/audio", headers=b)).content == b"RIFFc2WAVE"


async def test_supervisors_are_scoped_to_their_queues(kit: Kit, db: Database) -> None:
    async with db.session() as s:
        await s.execute(
            text(
                "INSERT INTO queue_log (time, callid, queue, agent, event, src_inode, src_offset) VALUES "
                "(now(), 'c1', 'support', 'NONE', 'ENTERQUEUE', 1, 0), "
                "(now(), 'c3', 'billing', 'NONE', 'ENTERQUEUE', 1, 100)"
            )
        )
        await s.commit()
    sup, other, admin = (
        await kit.login("demo-supervisor"),
        await kit.login(*OTHER_SUPERVISOR),
        await kit.login("demo-admin"),
    )
    get = kit.client.get
    assert {i["call_id"] for i in (await get("/api/interactions", headers=sup)).json()} == {"c1", "c2"}
    assert [i["call_id"] for i in (await get("/api/interactions", headers=other)).json()] == ["c3"]
    assert {i["call_id"] for i in (await get("/api/interactions", headers=admin)).json()} == {"c1", "c2", "c3"}
    assert [r["call_id"] for r in (await get("/api/recordings", headers=other)).json()] == ["c3"]
    assert (await get("/api/recordings/3/audio", headers=other)).status_code == 200
    assert (await get("/api/recordings/3/audio", headers=sup)).status_code == 403
    assert [e["callid"] for e in (await get("/api/queue-log", headers=sup)).json()] == ["c1"]
    assert [e["callid"] for e in (await get("/api/queue-log", headers=other)).json()] == ["c3"]
    assert len((await get("/api/agents", headers=sup)).json()) == 10  # the agents of support
    assert (await get("/api/agents", headers=other)).json() == []


async def test_agents_do_not_hear_recordings_when_configured_so(db: Database, pg_url: str, tmp_path: Path) -> None:
    async with app_kit(pg_url, tmp_path, agents_hear_own_recordings=False) as kit:
        a = await kit.login("1001")
        assert (await kit.client.get("/api/recordings", headers=a)).json() == []
        assert (await kit.client.get("/api/recordings/1/audio", headers=a)).status_code == 403
        assert [i["call_id"] for i in (await kit.client.get("/api/interactions", headers=a)).json()] == ["c1"]


async def test_sign_out_revokes_the_token_at_once_and_in_the_database(kit: Kit, db: Database) -> None:
    h = await kit.login("1001")
    other = await kit.login("1001")  # a second browser
    assert (await kit.client.get("/api/session", headers=h)).json()["username"] == "1001"
    assert (await kit.client.delete("/api/session", headers=h)).status_code == 204
    r = await kit.client.get("/api/agents/me", headers=h)
    assert r.status_code == 401 and "revoked" in r.json()["message"]
    assert (await kit.client.get("/api/agents/me", headers=other)).status_code == 200
    async with db.session() as s:
        revoked = list((await s.execute(select(UserSession.revoked_at).order_by(UserSession.id))).scalars())
    assert revoked[-2] is not None and revoked[-1] is None
    # a process that never saw the token (a restarted controller) refuses it from the database
    from hotline.auth import Sessions

    fresh = Sessions(db)
    assert await fresh.validate(h["Authorization"][7:]) is None
    assert await fresh.validate(other["Authorization"][7:]) is not None


async def test_admin_revokes_a_users_sessions_and_disables_users(kit: Kit, db: Database) -> None:
    admin, agent = await kit.login("demo-admin"), await kit.login("1001")
    r = await kit.client.get("/api/users/1001/sessions", headers=admin)
    assert r.status_code == 200 and len(r.json()) == 1 and r.json()[0]["address"] == "10.1.2.3"
    r = await kit.client.delete("/api/users/1001/sessions", headers=admin)
    assert r.json() == {"revoked": 1}
    assert (await kit.client.get("/api/agents/me", headers=agent)).status_code == 401

    agent = await kit.login("1001")
    r = await kit.client.patch("/api/users/1001", headers=admin, json={"disabled": True})
    assert r.status_code == 200 and r.json()["disabled"] is True
    assert (await kit.client.get("/api/agents/me", headers=agent)).status_code == 401
    r = await kit.client.post("/api/session", json={"username": "1001", "password": "agent1001"})
    assert r.status_code == 401 and r.json()["message"] == "wrong username or password"  # same as a bad password
    await kit.client.patch("/api/users/1001", headers=admin, json={"disabled": False})
    agent = await kit.login("1001")

    # changing roles signs the user out; the new session carries the new roles
    r = await kit.client.patch("/api/users/1001", headers=admin, json={"roles": ["agent", "supervisor"]})
    assert r.json()["roles"] == ["agent", "supervisor"]
    assert (await kit.client.get("/api/agents/me", headers=agent)).status_code == 401
    agent = await kit.login("1001")
    assert (await kit.client.get("/api/queue-log", headers=agent)).status_code == 200

    # a password reset signs out too, and the new password works
    r = await kit.client.put("/api/users/1001/password", headers=admin, json={"password": "a-much-better-one"})
    assert r.status_code == 204
    assert (await kit.client.get("/api/agents/me", headers=agent)).status_code == 401
    await kit.login("1001", "a-much-better-one")


async def test_users_are_created_with_argon2_and_unique_names(kit: Kit, db: Database) -> None:
    admin = await kit.login("demo-admin")
    body = {"username": "sv2", "display_name": "S", "password": "p" * 12, "roles": ["supervisor"]}
    r = await kit.client.post("/api/users", headers=admin, json=body | {"supervised_queues": ["support"]})
    assert r.status_code == 201 and r.json()["supervised_queues"] == ["support"]
    assert (await kit.client.post("/api/users", headers=admin, json=body)).status_code == 409
    r = await kit.client.post("/api/users", headers=admin, json=body | {"username": "sv3", "password": "short"})
    assert r.status_code == 422
    async with db.session() as s:
        stored = (await s.execute(select(User.password_hash).where(User.username == "sv2"))).scalar_one()
    assert stored.startswith("$argon2id$")
    assert (await kit.client.get("/api/queue-log", headers=await kit.login("sv2", "p" * 12))).status_code == 200


async def test_login_is_rate_limited_per_username_and_per_address(kit: Kit) -> None:
    for _ in range(5):
        r = await kit.client.post("/api/session", json={"username": "1001", "password": "wrong"})
        assert r.status_code == 401
    r = await kit.client.post("/api/session", json={"username": "1001", "password": "agent1001"})
    assert r.status_code == 429 and 1 <= int(r.headers["Retry-After"]) <= 300
    # another user from the same address is still let in (under the address's 20)
    assert (
        await kit.client.post("/api/session", json={"username": "1002", "password": "agent1002"})
    ).status_code == 200
    for i in range(15):
        await kit.client.post("/api/session", json={"username": f"ghost{i}", "password": "x"})
    r = await kit.client.post("/api/session", json={"username": "1003", "password": "agent1003"})
    assert r.status_code == 429 and "Retry-After" in r.headers


async def test_unknown_and_disabled_users_cost_the_same_verification(kit: Kit, monkeypatch: pytest.MonkeyPatch) -> None:
    passwords = kit.controller.auth.passwords
    verified: list[str] = []
    real = passwords.verify
    monkeypatch.setattr(passwords, "verify", lambda pw, stored: verified.append(stored) or real(pw, stored))
    r1 = await kit.client.post("/api/session", json={"username": "nobody", "password": "agent1001"})
    assert verified == [passwords.dummy_hash]
    await kit.controller.auth.accounts.update("1004", disabled=True)
    r2 = await kit.client.post("/api/session", json={"username": "1004", "password": "agent1004"})
    r3 = await kit.client.post("/api/session", json={"username": "1005", "password": "wrong"})
    assert len(verified) == 3 and verified[1].startswith("$argon2id$") and verified[1] != passwords.dummy_hash
    assert r1.status_code == r2.status_code == r3.status_code == 401
    assert r1.json() == r2.json() == r3.json()


async def test_legacy_hash_is_upgraded_at_log_in(kit: Kit, db: Database) -> None:
    from hotline.auth.passwords import legacy_scrypt_hash

    async with db.session() as s:
        user = (await s.execute(select(User).where(User.username == "1006"))).scalar_one()
        user.password_hash = legacy_scrypt_hash("agent1006")
        await s.commit()
    await kit.login("1006", "agent1006")
    async with db.session() as s:
        stored = (await s.execute(select(User.password_hash).where(User.username == "1006"))).scalar_one()
    assert stored.startswith("$argon2id$") and "m=8192,t=1" in stored
    await kit.login("1006", "agent1006")


async def test_playback_is_audited_before_the_audio_and_refused_if_it_cannot_be(kit: Kit, db: Database) -> None:
    agent, admin = await kit.login("1001"), await kit.login("demo-admin")
    assert (await kit.client.get("/api/recordings/1/audio", headers=agent)).status_code == 200
    await kit.client.get("/api/recordings/1/audio", headers=admin, params={"download": "true"})
    async with db.session() as s:
        rows = list((await s.execute(select(RecordingAccess).order_by(RecordingAccess.id))).scalars())
    assert [(r.recording_id, r.call_id, r.username, r.action, r.address) for r in rows] == [
        (1, "c1", "1001", "play", "10.1.2.3"),
        (1, "c1", "demo-admin", "download", "10.1.2.3"),
    ]
    log = (await kit.client.get("/api/recordings/access-log", headers=admin)).json()
    assert [(e["username"], e["action"]) for e in log] == [("demo-admin", "download"), ("1001", "play")]
    refused = await kit.client.get("/api/recordings/2/audio", headers=agent)  # not theirs: no audio, no row
    assert refused.status_code == 403

    async with db.engine.begin() as conn:  # the audit table refuses every write
        await conn.execute(text("ALTER TABLE recording_access ADD CONSTRAINT no_writes CHECK (false) NOT VALID"))
    try:
        r = await kit.client.get("/api/recordings/1/audio", headers=agent)
        assert r.status_code == 503 and b"RIFF" not in r.content
    finally:
        async with db.engine.begin() as conn:
            await conn.execute(text("ALTER TABLE recording_access DROP CONSTRAINT no_writes"))
    async with db.session() as s:
        assert len(list((await s.execute(select(RecordingAccess))).scalars())) == 2


async def test_admin_gives_an_agent_user_a_phone_with_a_generated_sip_password(kit: Kit, db: Database) -> None:
    from acd.models import Agent

    admin = await kit.login("demo-admin")
    body = {"username": "7001", "display_name": "New Agent", "password": "n" * 12, "roles": ["agent"]}
    assert (await kit.client.post("/api/users", headers=admin, json=body)).status_code == 201
    r = await kit.client.post("/api/agents", headers=admin, json={"username": "7001"})
    assert r.status_code == 201 and r.json()["agent"]["extension"] == "7001"
    sip = r.json()["sip_password"]
    assert sip != "sip7001" and len(sip) >= 20
    assert (await kit.client.post("/api/agents", headers=admin, json={"username": "7001"})).status_code == 409
    r = await kit.client.post("/api/agents", headers=admin, json={"username": "1"})
    assert r.status_code == 404
    async with db.session() as s:
        agent = (await s.execute(select(Agent).where(Agent.extension == "7001"))).scalar_one()
    assert agent.sip_password == sip
    r = await kit.client.get("/api/agents/me", headers=await kit.login("7001", "n" * 12))
    assert r.status_code == 200 and r.json()["name"] == "New Agent"
