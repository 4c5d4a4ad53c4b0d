"""The external CRM adapter against a real HTTP server on 127.0.0.1: look-ups (hit, miss, slow, failing,
circuit breaker) and durable write-back through the outbox (server down, then up: delivered once)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pydantic import SecretStr

from crm_bridge.external.breaker import CircuitBreaker
from crm_bridge.external.cache import TtlCache
from crm_bridge.external.config import ExternalCrmConfig
from crm_bridge.external.contract import ExternalCustomer, InteractionRecord, WorkOrderRecord
from crm_bridge.external.http import HttpExternalCrm
from crm_bridge.external.interface import CrmRejected, CrmUnavailable
from crm_bridge.external.lookup import CrmFirstLookup
from crm_bridge.external.wiring import build_adapter
from crm_bridge.external.writeback import ExternalWriteBack
from crm_bridge.schemas import CustomerCard
from hotline.db import Database
from hotline.outbox import Outbox
from tests.integration.external_crm_server import TOKEN, FakeCrm

ZHANG = "+8613800138000"
LI = "+8613900139000"
AT = datetime(2026, 11, 24, 9, 30, tzinfo=UTC)


class LocalCards:
    """The local look-up: cards by phone."""

    def __init__(self) -> None:
        self.cards = {
            ZHANG: CustomerCard(id=7, name="Zhang W.", phone=ZHANG, tier="walk_in", city="Beijing"),
            LI: CustomerCard(id=8, name="Li Na", phone=LI, tier="regular"),
        }

    async def card_by_phone(self, number: str | None) -> CustomerCard | None:
        return self.cards.get(number or "")

    async def card_by_id(self, customer_id: int) -> CustomerCard | None:
        return next((c for c in self.cards.values() if c.id == customer_id), None)


@pytest.fixture
async def crm() -> AsyncIterator[FakeCrm]:
    server = FakeCrm()
    server.customers[ZHANG] = {
        "external_id": "C-001",
        "name": "Zhang Wei",
        "phone": ZHANG,
        "tier": "vip",
        "company": "Huaxin Trading Co.",
        "city": None,
        "dedicated_agent": "1001",
    }
    server.customers["+8613700137000"] = {"external_id": "C-003", "name": "Chen Gang", "phone": "+8613700137000"}
    await server.start()
    yield server
    await server.stop()


def config(server: FakeCrm, **changes: object) -> ExternalCrmConfig:
    base = {
        "enabled": True,
        "base_url": server.base_url,
        "token": SecretStr(TOKEN),
        "lookup_timeout": 0.3,
        "write_timeout": 1.0,
        "breaker_failures": 3,
        "breaker_cool_down": 0.4,
    }
    return ExternalCrmConfig.model_validate(base | changes)


def lookup_over(server: FakeCrm, **changes: object) -> tuple[CrmFirstLookup, HttpExternalCrm]:
    cfg = config(server, **changes)
    client = HttpExternalCrm(cfg)
    return CrmFirstLookup(client, LocalCards(), TtlCache(100, 60.0), bound=cfg.lookup_timeout + 0.05), client


async def test_a_hit_is_laid_over_the_local_card_and_cached(crm: FakeCrm) -> None:
    lookup, client = lookup_over(crm)
    try:
        card = await lookup.card_by_phone("138 0013 8000")
        assert card is not None and card.id == 7  # the local id: calls link to the local customer
        assert (card.name, card.tier, card.company, card.city) == ("Zhang Wei", "vip", "Huaxin Trading Co.", "Beijing")
        assert await lookup.card_by_phone("+86 138 0013 8000") == card
        assert crm.lookups == 1 and lookup.cache.hits == 1
        by_id = await lookup.card_by_id(7)
        assert by_id == card and crm.lookups == 1
    finally:
        await client.close()


async def test_a_miss_gives_the_local_card_and_a_crm_only_caller_is_not_linked(crm: FakeCrm) -> None:
    lookup, client = lookup_over(crm)
    try:
        assert await lookup.card_by_phone(LI) == LocalCards().cards[LI]
        assert await lookup.card_by_phone(LI) == LocalCards().cards[LI]
        assert crm.lookups == 1  # the miss is remembered too
        assert await lookup.card_by_phone("13700137000") is None
        assert lookup.crm_only == 1 and lookup.fallbacks == 0
    finally:
        await client.close()


async def test_a_slow_crm_falls_back_to_the_local_card_within_the_bound(crm: FakeCrm) -> None:
    crm.delay = 2.0
    lookup, client = lookup_over(crm)
    loop = asyncio.get_running_loop()
    try:
        started = loop.time()
        card = await lookup.card_by_phone(ZHANG)
        elapsed = loop.time() - started
        assert card == LocalCards().cards[ZHANG]
        assert 0.25 <= elapsed < 0.5, elapsed  # the bound is 0.3 s (+0.05 guard)
        assert lookup.fallbacks == 1 and "0.3 s" in (lookup.last_error or "")
        assert len(lookup.cache) == 0  # a failure is not remembered
    finally:
        await client.close()


async def test_a_failing_crm_opens_the_circuit_which_half_opens_and_closes(crm: FakeCrm) -> None:
    crm.failing = True
    lookup, client = lookup_over(crm)
    try:
        for _ in range(3):
            assert await lookup.card_by_phone(ZHANG) == LocalCards().cards[ZHANG]
        assert crm.lookups == 3 and client.breaker.state == "open"
        started = asyncio.get_running_loop().time()
        assert await lookup.card_by_phone(ZHANG) == LocalCards().cards[ZHANG]
        assert asyncio.get_running_loop().time() - started < 0.05  # not asked at all
        assert crm.lookups == 3 and lookup.fallbacks == 4
        await asyncio.sleep(0.45)
        assert client.breaker.state == "half_open"
        await lookup.card_by_phone(ZHANG)  # the trial fails: open again
        assert crm.lookups == 4 and client.breaker.state == "open"
        crm.failing = False
        await asyncio.sleep(0.45)
        card = await lookup.card_by_phone(ZHANG)  # the trial succeeds: closed
        assert card is not None and card.tier == "vip" and crm.lookups == 5
        assert client.breaker.snapshot() == {
            "state": "closed",
            "consecutive_failures": 0,
            "opened_total": 2,
            "retry_in": None,
        }
    finally:
        await client.close()


async def test_refused_connections_and_wrong_tokens(crm: FakeCrm) -> None:
    client = HttpExternalCrm(config(crm, token=SecretStr("wrong")))
    try:
        with pytest.raises(CrmRejected, match="HTTP 401"):
            await client.lookup(ZHANG)
        assert client.breaker.failures == 0  # the CRM answered: it is up
    finally:
        await client.close()
    await crm.stop()
    client = HttpExternalCrm(config(crm))
    try:
        with pytest.raises(CrmUnavailable):
            await client.lookup(ZHANG)
        assert client.breaker.failures == 1
    finally:
        await client.close()


def interaction(call_id: str) -> InteractionRecord:
    return InteractionRecord(
        call_id=call_id,
        caller=ZHANG,
        customer_id=7,
        agent="1001",
        queue="support",
        intent="pickup",
        outcome="answered",
        started_at=AT,
        answered_at=AT,
        ended_at=AT,
        summary="pickup booked, reference 3105 8266",
    )


async def wait_delivered(outbox: Outbox, timeout: float) -> None:
    async with asyncio.timeout(timeout):
        while outbox.stats.pending:  # noqa: ASYNC110 - the outbox offers no event per delivery
            await asyncio.sleep(0.05)


@pytest.fixture
async def outbox(db: Database, tmp_path: Path) -> AsyncIterator[Outbox]:
    box = Outbox(tmp_path / "outbox.sqlite3", db)
    yield box
    await box.stop()


async def test_write_back_waits_out_an_outage_and_delivers_each_record_once(crm: FakeCrm, outbox: Outbox) -> None:
    await crm.stop()  # the CRM is down: connections are refused
    client = HttpExternalCrm(config(crm, breaker_failures=2))
    writeback = ExternalWriteBack(client, outbox)
    await outbox.start()
    try:
        for call_id in ("c1", "c2", "c3"):
            await writeback.interaction(interaction(call_id))
        order = WorkOrderRecord(
            id=41, type="claim", status="open", customer_id=7, waybill="SF1234567890", subject="damaged", changed_at=AT
        )
        await writeback.work_order(order)
        await asyncio.sleep(1.0)
        assert outbox.stats.pending == 4 and crm.posts == 0 and outbox.last_error is not None
        assert client.breaker.state in ("open", "half_open")
        await crm.start()  # back on the same port
        await wait_delivered(outbox, 15)
        assert set(crm.received) == {"interaction:c1", "interaction:c2", "interaction:c3", order.idempotency_key}
        assert crm.posts == 4 and crm.repeats == 0
        assert crm.received["interaction:c2"]["summary"] == "pickup booked, reference 3105 8266"
        assert outbox.stats.parked == 0 and client.breaker.state == "closed"
    finally:
        await client.close()


async def test_records_left_at_shutdown_wait_for_the_next_start(crm: FakeCrm, outbox: Outbox) -> None:
    client = HttpExternalCrm(config(crm))
    await client.close()  # the plugin stopped before the outbox's last drain
    writeback = ExternalWriteBack(client, outbox)
    await outbox.start()
    await writeback.interaction(interaction("c9"))
    await asyncio.sleep(0.3)
    assert outbox.stats.pending == 1 and outbox.stats.parked == 0 and "closed" in (outbox.last_error or "")


async def test_a_batch_failing_half_way_is_not_sent_twice(crm: FakeCrm, outbox: Outbox) -> None:
    client = HttpExternalCrm(config(crm, breaker_failures=100))
    writeback = ExternalWriteBack(client, outbox)
    crm.post_budget = 2  # two writes accepted, then 503
    await outbox.start()
    try:  # put together: one local commit, one batch of four
        await asyncio.gather(*(writeback.interaction(interaction(c)) for c in ("c1", "c2", "c3", "c4")))
        await asyncio.sleep(0.8)
        assert len(crm.received) == 2 and outbox.stats.pending == 4  # the batch failed at its third record
        crm.post_budget = None
        await wait_delivered(outbox, 15)
        assert len(crm.received) == 4 and crm.repeats == 0  # c1 and c2 were not sent again
        assert writeback.sent == 4 and crm.posts > 4
    finally:
        await client.close()


async def test_a_rejected_record_is_parked_and_the_others_delivered(crm: FakeCrm, outbox: Outbox) -> None:
    client = HttpExternalCrm(config(crm))
    writeback = ExternalWriteBack(client, outbox)
    await outbox.start()
    try:
        for call_id in ("c1", "unreadable", "c3"):
            await writeback.interaction(interaction(call_id))
        await wait_delivered(outbox, 10)
        assert set(crm.received) == {"interaction:c1", "interaction:c3"}
        parked = await outbox.parked()
        assert [p.kind for p in parked] == ["external_crm_interaction"] and "HTTP 422" in parked[0].error
        assert '"unreadable"' in parked[0].body
    finally:
        await client.close()


async def test_the_adapter_is_off_by_default_and_reports_its_circuit(crm: FakeCrm, outbox: Outbox) -> None:
    assert ExternalCrmConfig.load().enabled is False
    assert build_adapter(ExternalCrmConfig.load(), LocalCards(), outbox) is None
    adapter = build_adapter(config(crm), LocalCards(), outbox)
    assert adapter is not None
    try:
        card = await adapter.lookup.card_by_phone(ZHANG)
        assert card is not None and card.tier == "vip"
        health = adapter.health()["external_crm"]
        assert health["circuit"]["state"] == "closed" and health["requests"] == 1 and health["fallbacks"] == 0
    finally:
        await adapter.close()


def test_config_reads_the_token_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "crm.toml"
    path.write_text('enabled = true\nbase_url = "http://127.0.0.1:9/v1/"\ntoken_env = "CRM_T"\nlookup_timeout = 0.2\n')
    monkeypatch.setenv("CRM_T", "s3cret")
    monkeypatch.setenv("HOTLINE_EXTERNAL_CRM_CONFIG", str(path))
    cfg = ExternalCrmConfig.load()
    assert cfg.enabled and cfg.base_url == "http://127.0.0.1:9/v1" and cfg.lookup_timeout == 0.2
    assert cfg.token is not None and cfg.token.get_secret_value() == "s3cret"
    assert ExternalCustomer.model_validate({"external_id": "x", "name": "n", "phone": "+1", "extra": 1}).name == "n"


def test_breaker_and_cache_on_a_controlled_clock() -> None:
    now = [0.0]
    breaker = CircuitBreaker(2, 10.0, clock=lambda: now[0])
    breaker.failure()
    assert breaker.state == "closed" and breaker.allow()
    breaker.failure()
    assert breaker.state == "open" and not breaker.allow()
    now[0] = 10.0
    assert breaker.allow() and not breaker.allow()  # one trial at a time
    breaker.success()
    assert breaker.state == "closed" and breaker.failures == 0
    cache: TtlCache[int] = TtlCache(2, 5.0, clock=lambda: now[0])
    cache.put("a", 1)
    cache.put("b", 2)
    assert cache.get("a") == (True, 1)
    cache.put("c", 3)  # "b" was used least recently
    assert cache.get("b") == (False, None) and len(cache) == 2
    now[0] = 15.0
    assert cache.get("a") == (False, None)
