"""GET /api/reports/summary and /api/reports/staffing over the real app and database: figures, groupings,
CSV, the supervisors' scope, Erlang C fed by the measured volumes and AHT, and the live counters."""

from __future__ import annotations

import asyncio
import csv
import io
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from acd.events import AGENT_STATE_RECORD, AgentStateRecord
from cms.erlang import agents_needed
from cti.events import CallEnded, CallRecord
from hotline.db import Database
from ivr.events import SurveyAnswered
from tests.integration.appkit import OTHER_SUPERVISOR, Kit, app_kit
from tests.integration.cmsseed import seed_day
from tests.integration.test_cms_reports import job

PERIOD = {"since": "2026-11-24T00:00:00+08:00", "until": "2026-11-25T00:00:00+08:00"}


@pytest.fixture
async def kit(db: Database, pg_url: str, tmp_path: Path) -> AsyncIterator[Kit]:
    async with app_kit(pg_url, tmp_path) as k:
        await seed_day(k.controller.db)
        await job(k.controller.db).run_once()
        yield k


async def test_summary_by_queue_as_json(kit: Kit) -> None:
    headers = await kit.login("demo-supervisor")
    r = await kit.client.get("/api/reports/summary", params={**PERIOD, "by": "queue"}, headers=headers)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["queues"] == ["support"]  # a supervisor's report covers their queues
    [support] = body["rows"]
    assert support["key"] == "support"
    assert (support["offered"], support["answered"], support["abandoned"]) == (4, 3, 1)
    assert support["service_level"] == pytest.approx(0.5)
    assert support["aht_seconds"] == pytest.approx(260 / 3)
    assert body["total"]["fcr"] == pytest.approx(2 / 3)


async def test_summary_as_csv_by_interval(kit: Kit) -> None:
    headers = await kit.login("demo-admin")
    r = await kit.client.get(
        "/api/reports/summary",
        params={**PERIOD, "by": "interval", "queue": "support", "format": "csv"},
        headers=headers,
    )
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/csv")
    assert "attachment" in r.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(r.text)))
    keys = [row["key"] for row in rows]
    # 09:00: the app kit's own two support calls (never queued: calls, not offered ones)
    assert keys == ["2026-11-24T01:00:00+00:00", "2026-11-24T01:15:00+00:00", "2026-11-24T09:00:00+00:00", "total"]
    assert (rows[2]["calls"], rows[2]["offered"], rows[2]["service_level"]) == ("2", "0", "")
    assert rows[0]["offered"] == "3" and float(rows[0]["service_level"]) == pytest.approx(1 / 3)
    assert rows[-1]["answered"] == "3" and rows[-1]["csat"] == "4.0"


async def test_a_supervisor_cannot_ask_for_another_queue(kit: Kit) -> None:
    headers = await kit.login(*OTHER_SUPERVISOR)
    r = await kit.client.get("/api/reports/summary", params={**PERIOD, "queue": "support"}, headers=headers)
    assert r.status_code == 403
    mine = await kit.client.get("/api/reports/summary", params=PERIOD, headers=headers)
    assert mine.status_code == 200 and mine.json()["total"]["offered"] == 0


async def test_bad_periods_are_refused(kit: Kit) -> None:
    headers = await kit.login("demo-admin")
    backwards = {"since": PERIOD["until"], "until": PERIOD["since"]}
    assert (await kit.client.get("/api/reports/summary", params=backwards, headers=headers)).status_code == 422
    naive = {"since": "2026-11-24T00:00:00", "until": "2026-11-25T00:00:00"}
    assert (await kit.client.get("/api/reports/summary", params=naive, headers=headers)).status_code == 422
    year = {"since": "2026-01-01T00:00:00Z", "until": "2026-03-01T00:00:00Z"}
    assert (await kit.client.get("/api/reports/staffing", params=year, headers=headers)).status_code == 422


async def test_staffing_uses_the_measured_calls_and_aht(kit: Kit) -> None:
    headers = await kit.login("demo-supervisor")
    params = {**PERIOD, "target_sl": "0.8", "threshold_s": "20", "max_occupancy": "0.85"}
    r = await kit.client.get("/api/reports/staffing", params=params, headers=headers)
    assert r.status_code == 200, r.text
    body = r.json()
    first, second = body["rows"]
    # 01:00: 3 counted calls (k1, k2, k4), AHT (100+20+30 + 60) / 2 = 105 s
    assert (first["calls"], first["aht_seconds"]) == (3, pytest.approx(105))
    assert first["agents"] == agents_needed(3, 900, 105, 0.8, 20, 0.85).agents
    assert first["traffic_erlangs"] == pytest.approx(3 * 105 / 900)
    # 01:15: 1 call (k5), AHT 50 s
    assert (second["calls"], second["aht_seconds"]) == (1, pytest.approx(50))
    assert body["peak_agents"] == max(first["agents"], second["agents"])
    assert body["aht_seconds"] == pytest.approx(260 / 3)


async def test_live_counters_are_on_metrics(kit: Kit) -> None:
    now = datetime.now(UTC)
    bus = kit.controller.core.bus
    for call_id, answered, outcome in (("m1", now, "answered"), ("m2", None, "abandoned")):
        record = CallRecord(
            call_id=call_id, queue="support", started_at=now, queued_at=now, answered_at=answered, outcome=outcome
        )
        bus.publish(CallEnded(record=record))
    text = (await kit.client.get("/metrics")).text
    assert 'hotline_queue_calls_offered_total{queue="support"} 2.0' in text
    assert 'hotline_queue_calls_answered_total{queue="support"} 1.0' in text
    assert 'hotline_queue_calls_abandoned_total{queue="support"} 1.0' in text


async def test_the_wiring_from_bus_events_to_the_report(kit: Kit) -> None:
    """A call ending and a survey published on the bus, and an agent's states as the ACD keeps them (its durable
    records, which the CMS takes too), reach the report."""
    plugin = kit.controller.plugin("cms")
    plugin.reports_job.builder.grace = timedelta(0)  # type: ignore[attr-defined]
    bus = kit.controller.core.bus
    t = datetime(2026, 11, 24, 3, 0, tzinfo=UTC)
    record = CallRecord(
        call_id="w1", caller="13800138000", queue="support", agent="1003", started_at=t, queued_at=t,
        answered_at=t + timedelta(seconds=8), ended_at=t + timedelta(seconds=98), wait_seconds=8,
        talk_seconds=90, outcome="answered",
    )  # fmt: skip
    for i, (second, state) in enumerate(((0, "available"), (8, "on_call"), (98, "available"), (120, "logged_out"))):
        change = AgentStateRecord(
            event_id=f"w1.{i}", extension="1003", state=state, reason=None, at=t + timedelta(seconds=second)
        )
        await kit.controller.core.outbox.put(AGENT_STATE_RECORD, change)
    bus.publish(CallEnded(record=record))
    bus.publish(SurveyAnswered(call_id="w1", agent="1003", score=2))

    async def reported() -> bool:
        await plugin.reports_job.run_once()  # type: ignore[attr-defined]
        r = await kit.client.get(
            "/api/reports/summary", params={**PERIOD, "by": "agent"}, headers=await kit.login("demo-admin")
        )
        row = next((x for x in r.json()["rows"] if x["key"] == "1003"), None)
        return row is not None and row["csat_responses"] == 1 and row["occupancy"] is not None

    await until_async(reported)
    r = await kit.client.get(
        "/api/reports/summary", params={**PERIOD, "by": "agent"}, headers=await kit.login("demo-admin")
    )
    row = next(x for x in r.json()["rows"] if x["key"] == "1003")
    assert (row["answered"], row["asa_seconds"], row["att_seconds"], row["csat"]) == (1, 8, 90, 2)
    assert row["occupancy"] == pytest.approx(90 / (90 + 8 + 22))


async def until_async(check: Callable[[], Awaitable[bool]], timeout: float = 15.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not await check():
        assert asyncio.get_running_loop().time() < deadline, "not reported in time"
        await asyncio.sleep(0.2)
