"""Quality assurance over the real app and PostgreSQL: the monthly sample (reproducible, idempotent, topped
up), scoring on versioned forms, the agent's acknowledgement and dispute, a supervisor's resolution,
calibration, and who sees what. Recorded calls come from a fake RECORDINGS provider."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from hotline.db import Database
from hotline.events import Event
from qa.events import CallsSampled, DisputeResolved, EvaluationDisputed, EvaluationSubmitted
from qa.interface import QA_RESULTS
from qa.models import QaSample
from qa.plugin import QaPlugin
from qa.sampling import Month, choose
from recordings.interface import RECORDINGS
from tests.integration.appkit import Kit, app_kit
from tests.integration.qakit import FakeRecordings, qa_marks_body, recorded

NOV = datetime(2026, 11, 1, tzinfo=UTC)


def november_calls() -> FakeRecordings:
    """12 calls of 1001 and 3 of 1002 in support in November (Beijing time), one of them 5 s long; 1001 also
    has calls on 31 October 23:00 Beijing time (still October) and in December."""
    calls = [recorded(100 + i, "1001", at=NOV + timedelta(days=i, hours=2)) for i in range(12)]
    calls += [recorded(200 + i, "1002", at=NOV + timedelta(days=i, hours=3)) for i in range(3)]
    calls[-1] = calls[-1].model_copy(update={"duration_seconds": 5.0})
    calls.append(recorded(300, "1001", at=datetime(2026, 10, 31, 15, tzinfo=UTC)))  # 23:00 in Beijing
    calls.append(recorded(301, "1001", at=datetime(2026, 12, 2, tzinfo=UTC)))
    return FakeRecordings(calls)


@pytest.fixture
async def kit(db: Database, pg_url: str, tmp_path: Path) -> AsyncIterator[Kit]:
    async with app_kit(pg_url, tmp_path) as k:
        yield k


def qa(kit: Kit) -> QaPlugin:
    plugin = kit.controller.plugin("qa")
    assert isinstance(plugin, QaPlugin)
    return plugin


def caught(kit: Kit) -> list[Event]:
    events: list[Event] = []
    for kind in (CallsSampled, EvaluationSubmitted, EvaluationDisputed, DisputeResolved):
        kit.controller.bus.subscribe(kind, events.append)
    return events


async def test_the_monthly_sample_is_reproducible_idempotent_and_per_agent(kit: Kit, db: Database) -> None:
    fake = november_calls()
    kit.controller.core.services.provide(RECORDINGS, fake)
    events = caught(kit)
    sup = await kit.login("demo-supervisor")
    r = await kit.client.post("/api/qa/samples", headers=sup, json={"month": "2026-11"})
    assert r.status_code == 200, r.text
    run = r.json()
    assert run["per_agent"] == 5 and run["agents"] == 2
    by_agent: dict[str, set[int]] = {}
    for sample in run["added"]:
        by_agent.setdefault(sample["agent"], set()).add(sample["recording_id"])
    nov = [c for c in fake.calls if 100 <= c.recording_id < 300]
    expected = {
        c.recording_id
        for _, c in choose([c for c in nov if c.agent == "1001"], 5, "hotline-qa-1", Month(2026, 11), "1001")
    }
    assert by_agent["1001"] == expected  # the documented hash choice, with the YAML's seed
    assert by_agent["1002"] == {200, 201}  # 202 lasted 5 s: under min_duration_seconds
    assert [e.recording_ids for e in events if isinstance(e, CallsSampled)] != []

    again = (await kit.client.post("/api/qa/samples", headers=sup, json={"month": "2026-11"})).json()
    assert again["added"] == []  # idempotent
    async with db.session() as s:
        stored = {(x.agent, x.recording_id) for x in (await s.execute(select(QaSample))).scalars()}
    assert stored == {("1001", i) for i in expected} | {("1002", 200), ("1002", 201)}

    # the same calls, seed and month elsewhere (the table emptied) give the same sample
    async with db.session() as s:
        await s.execute(QaSample.__table__.delete())
        await s.commit()
    fake.calls.reverse()
    redrawn = (await kit.client.post("/api/qa/samples", headers=sup, json={"month": "2026-11", "agent": "1001"})).json()
    assert {x["recording_id"] for x in redrawn["added"]} == expected

    # a later call of 1002 tops the month up without touching what was drawn
    await kit.client.post("/api/qa/samples", headers=sup, json={"month": "2026-11"})
    fake.calls.append(recorded(203, "1002", at=NOV + timedelta(days=20)))
    topped = (await kit.client.post("/api/qa/samples", headers=sup, json={"month": "2026-11"})).json()
    assert [x["recording_id"] for x in topped["added"]] == [203]
    listed = (await kit.client.get("/api/qa/samples", headers=sup, params={"month": "2026-11"})).json()
    assert len(listed) == 5 + 3 and all(not x["reviewed"] for x in listed)
    bad = await kit.client.post("/api/qa/samples", headers=sup, json={"month": "2026-13"})
    assert bad.status_code == 422


async def test_the_monthly_job_draws_last_month_once(kit: Kit, db: Database) -> None:
    kit.controller.core.services.provide(RECORDINGS, november_calls())
    plugin = qa(kit)
    plugin.sampler.clock = lambda: datetime(2026, 12, 1, 1, tzinfo=UTC)  # 09:00 on 1 December in Beijing
    first = await plugin.sampler.monthly()
    assert first is not None and first.month == "2026-11" and len(first.added) == 7
    assert await plugin.sampler.monthly() is None  # checked again within December: nothing to do
    assert plugin.health()["qa"]["last_monthly_sample"] == "2026-11"
    async with db.session() as s:
        drawn_by = set((await s.execute(select(QaSample.drawn_by))).scalars())
    assert drawn_by == {"system"}


async def test_a_month_without_recordings_draws_nothing(kit: Kit) -> None:
    """The recordings package's own provider (no recording stored yet): a draw adds nothing, and says so."""
    r = await kit.client.post("/api/qa/samples", headers=await kit.login("demo-supervisor"), json={"month": "2026-11"})
    assert r.status_code == 200, r.text
    assert r.json()["added"] == []


async def _sampled(kit: Kit) -> tuple[dict[str, str], int, int]:
    kit.controller.core.services.provide(RECORDINGS, november_calls())
    sup = await kit.login("demo-supervisor")
    run = (await kit.client.post("/api/qa/samples", headers=sup, json={"month": "2026-11"})).json()
    sample = next(x["id"] for x in run["added"] if x["agent"] == "1001")
    form = (await kit.client.get("/api/qa/forms", headers=sup)).json()[0]
    return sup, sample, form["id"]


async def test_review_acknowledge_dispute_and_resolve(kit: Kit) -> None:
    events = caught(kit)
    sup, sample, form = await _sampled(kit)
    post = kit.client.post
    r = await post(
        f"/api/qa/samples/{sample}/evaluations",
        headers=sup,
        json=qa_marks_body(form, courtesy=3, pickup_details=None, customs_reminder=None),
    )
    assert r.status_code == 201, r.text
    review = r.json()
    # (10 + 15 + 20 + 15·3/5 + 10) / (10 + 15 + 20 + 15 + 10) = 64/70
    assert review["total"] == 91.43 and review["purpose"] == "review" and review["form_version"] == 1
    assert review["marks"][2]["score"] is None and review["status"] == "submitted"
    ev = review["id"]

    agent, other = await kit.login("1001"), await kit.login("1002")
    mine = (await kit.client.get("/api/qa/evaluations", headers=agent)).json()
    assert [e["id"] for e in mine] == [ev] and mine[0]["comment"] == "clear call"
    assert (await kit.client.get("/api/qa/evaluations", headers=other)).json() == []
    assert (await kit.client.get(f"/api/qa/evaluations/{ev}", headers=other)).status_code == 403
    assert (
        await post(f"/api/qa/evaluations/{ev}/dispute", headers=other, json={"reason": "not mine"})
    ).status_code == 403

    r = await post(f"/api/qa/evaluations/{ev}/dispute", headers=agent, json={"reason": "I was courteous throughout"})
    assert r.status_code == 200 and r.json()["status"] == "disputed"
    assert (await post(f"/api/qa/evaluations/{ev}/acknowledge", headers=agent)).status_code == 409
    disputed = (await kit.client.get("/api/qa/evaluations", headers=sup, params={"status": "disputed"})).json()
    assert [e["dispute_reason"] for e in disputed] == ["I was courteous throughout"]

    body = {"outcome": "amended", "note": "listened again: courteous", "marks": qa_marks_body(form)["marks"]}
    r = await post(f"/api/qa/evaluations/{ev}/resolve", headers=sup, json=body)
    assert r.status_code == 200, r.text
    resolved = r.json()
    assert resolved["status"] == "amended" and resolved["total"] == 100.0
    assert resolved["total_before_resolution"] == 91.43 and resolved["resolved_by"] == "demo-supervisor"
    assert (await post(f"/api/qa/evaluations/{ev}/resolve", headers=sup, json=body)).status_code == 409
    listed = (await kit.client.get("/api/qa/samples", headers=sup, params={"month": "2026-11"})).json()
    shown = {x["id"]: (x["reviewed"], x["review_total"], x["review_status"]) for x in listed}
    assert shown.pop(sample) == (True, 100.0, "amended")  # the amended total, not the one before
    assert set(shown.values()) == {(False, None, None)}
    detail = (await kit.client.get(f"/api/qa/samples/{sample}", headers=sup)).json()["sample"]
    assert (detail["review_total"], detail["review_status"]) == (100.0, "amended")

    kinds = [type(e).__name__ for e in events if not isinstance(e, CallsSampled)]
    assert kinds == ["EvaluationSubmitted", "EvaluationDisputed", "DisputeResolved"]
    results = await kit.controller.core.services.get(QA_RESULTS).agent_month("1001", "2026-11")
    assert (results.sampled, results.reviewed, results.average, results.disputed) == (5, 1, 100.0, 0)


async def test_acknowledge_critical_failure_and_bad_marks(kit: Kit) -> None:
    sup, sample, form = await _sampled(kit)
    post = kit.client.post
    bad = await post(f"/api/qa/samples/{sample}/evaluations", headers=sup, json=qa_marks_body(form, courtesy=9))
    assert bad.status_code == 422 and "courtesy" in bad.json()["message"]
    partial = qa_marks_body(form)
    partial["marks"] = partial["marks"][:-1]  # type: ignore[index]
    assert (await post(f"/api/qa/samples/{sample}/evaluations", headers=sup, json=partial)).status_code == 422
    r = await post(f"/api/qa/samples/{sample}/evaluations", headers=sup, json=qa_marks_body(form, feedback_recorded=0))
    assert r.json()["total"] == 0.0 and r.json()["raw_total"] == 90.0  # the gate itself weighs 10
    assert r.json()["critical_failures"] == ["feedback_recorded"]
    again = await post(f"/api/qa/samples/{sample}/evaluations", headers=sup, json=qa_marks_body(form))
    assert again.status_code == 409
    agent = await kit.login("1001")
    r = await post(f"/api/qa/evaluations/{r.json()['id']}/acknowledge", headers=agent)
    assert r.status_code == 200 and r.json()["status"] == "acknowledged" and r.json()["acknowledged_at"]


async def test_forms_are_versioned_and_a_score_keeps_its_version(kit: Kit) -> None:
    sup, sample, form = await _sampled(kit)
    admin = await kit.login("demo-admin")
    await kit.client.post(f"/api/qa/samples/{sample}/evaluations", headers=sup, json=qa_marks_body(form))
    current = (await kit.client.get(f"/api/qa/forms/{form}", headers=admin)).json()
    body = {k: current[k] for k in ("name", "title", "description")}
    body["criteria"] = [
        {k: c[k] for k in ("key", "label", "guidance", "weight", "max_score", "critical", "allow_na")}
        for c in current["criteria"]
    ]
    body["criteria"][0]["weight"] = 30
    r = await kit.client.post("/api/qa/forms", headers=admin, json=body)
    assert r.status_code == 201 and r.json()["version"] == 2 and r.json()["name"] == "courier-call"
    assert (await kit.client.post(f"/api/qa/forms/{form}/retire", headers=admin)).json()["retired_at"]
    assert [f["version"] for f in (await kit.client.get("/api/qa/forms", headers=sup)).json()] == [2]
    old = (await kit.client.get("/api/qa/evaluations", headers=sup)).json()[0]
    assert old["form_version"] == 1 and old["marks"][0]["weight"] == 10  # scored on version 1's weights
    refused = await kit.client.post(f"/api/qa/samples/{sample}/evaluations", headers=admin, json=qa_marks_body(form))
    assert refused.status_code == 409  # retired
    dup = body | {"criteria": body["criteria"] + [body["criteria"][0]]}
    assert (await kit.client.post("/api/qa/forms", headers=admin, json=dup)).status_code == 422


async def test_calibration_shows_reviewers_side_by_side(kit: Kit) -> None:
    sup, sample, form = await _sampled(kit)
    admin, agent = await kit.login("demo-admin"), await kit.login("1001")
    url = f"/api/qa/samples/{sample}/evaluations"
    await kit.client.post(url, headers=sup, json=qa_marks_body(form, courtesy=5, no_repetition=2))
    r = await kit.client.post(url, headers=admin, json=qa_marks_body(form, courtesy=2, no_repetition=4))
    assert r.json()["purpose"] == "calibration"
    cal = (await kit.client.get(f"/api/qa/samples/{sample}/calibration", headers=sup)).json()
    assert cal["reviewers"] == ["demo-supervisor", "demo-admin"]
    # supervisor: 100 − 15·3/5 = 91; admin: 100 − 15·1/5 − 15·3/5 = 88
    assert cal["totals"] == {"demo-supervisor": 91.0, "demo-admin": 88.0} and cal["total_spread"] == 3.0
    spreads = {c["criterion"]: c["spread"] for c in cal["criteria"]}
    assert spreads["courtesy"] == 3 and spreads["no_repetition"] == 2 and spreads["identification"] == 0
    # the agent sees the review only, never the calibration scoring; another queue's supervisor sees nothing
    assert [e["reviewer"] for e in (await kit.client.get("/api/qa/evaluations", headers=agent)).json()] == [
        "demo-supervisor"
    ]
    other = await kit.login("sup-billing", "billing-supervisor-pw")
    assert (await kit.client.get(f"/api/qa/samples/{sample}/calibration", headers=other)).status_code == 403
    assert (await kit.client.get("/api/qa/samples", headers=other)).json() == []
