"""The routing decision with fakes: tiers, green channel, intents and languages, dedicated and sticky agents,
hours, skills and overflow; every decision recorded with its reasons."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pydantic import BaseModel

from acd.decisions import DECISION_KIND, DecisionRecord
from acd.interface import RoutingRequest
from acd.queues import Queues
from acd.router import AcdRouter
from acd.rules import RoutingRules
from acd.sticky import StickyAgents
from cti.events import CallEnded, CallRecord
from hotline.routing import Action, ChannelVar
from tests.unit.fakes import card

NOW = datetime(2027, 3, 3, 10, 0, tzinfo=UTC)  # a Wednesday


class FakeOutbox:
    def __init__(self) -> None:
        self.records: list[tuple[str, BaseModel]] = []

    async def put(self, kind: str, record: BaseModel) -> None:
        self.records.append((kind, record))


class FakeHistory:
    def __init__(self, agent: str | None = None) -> None:
        self.agent = agent
        self.asked: list[tuple[int, datetime]] = []

    async def recent(self, customer_id: int, limit: int = 3) -> list[dict[str, Any]]:
        return []

    async def last_agent(self, customer_id: int, since: datetime) -> str | None:
        self.asked.append((customer_id, since))
        return self.agent

    async def last_agents(self, since: datetime) -> list[tuple[int, str, datetime]]:
        return [(42, "1004", NOW - timedelta(days=2)), (43, "1005", NOW - timedelta(days=40))]


class Parts:
    def __init__(self, free: set[str], history: FakeHistory, rules: RoutingRules | None = None) -> None:
        self.free = free
        self.history = history
        self.outbox = FakeOutbox()
        self.clock = lambda: NOW
        queues = Queues.load()
        self.rules = rules or RoutingRules.load(queues=queues.names())
        self.sticky = StickyAgents(lambda: history, self.rules.sticky.days, clock=self.clock)
        self.router = AcdRouter(
            self.rules,
            queues,
            free.__contains__,
            self.sticky,
            self.outbox,
            clock=self.clock,  # type: ignore[arg-type]
        )

    async def stored(self) -> list[DecisionRecord]:
        await self.router.settle()
        return [r for k, r in self.outbox.records if k == DECISION_KIND]  # type: ignore[misc]


def kinds(record: DecisionRecord) -> list[str]:
    return [r.kind for r in record.reasons]


@pytest.fixture
def parts() -> Parts:
    return Parts(free={"1001", "1002", "1003"}, history=FakeHistory())


async def test_an_unknown_caller_goes_to_the_menus_queue_with_no_priority(parts: Parts) -> None:
    d = await parts.router.decide(RoutingRequest(call_id="c1", caller="13000000000", queue="support"))
    assert (d.action, d.queue, d.priority, d.preferred_agent, d.max_penalty) == (Action.queue, "support", 0, None, None)
    assert d.max_wait == 600 and d.open
    (record,) = await parts.stored()
    assert record.call_id == "c1" and record.tier is None and record.reasons[0].detail == "unknown caller: priority 0"
    assert "sticky" not in kinds(record) and "dedicated" not in kinds(record)


async def test_vip_gets_the_green_channel_and_key_accounts_their_own_queue(parts: Parts) -> None:
    regular = await parts.router.decide(RoutingRequest(call_id="r", customer=card("regular"), queue="support"))
    vip = await parts.router.decide(RoutingRequest(call_id="v", customer=card("vip"), queue="support"))
    key = await parts.router.decide(RoutingRequest(call_id="k", customer=card("key_account"), queue="support"))
    assert (regular.queue, regular.priority) == ("support", 0)
    assert (vip.queue, vip.priority) == ("support", 10) and vip.priority > regular.priority
    assert (key.queue, key.priority, key.max_penalty) == ("key_accounts", 20, 2)
    records = {r.call_id: r for r in await parts.stored()}
    assert "green channel" in records["v"].reasons[0].detail
    assert any(r.kind == "tier" and "own queue key_accounts" in r.detail for r in records["k"].reasons)


async def test_complaints_go_to_the_skilled_pool_which_widens_with_the_wait(parts: Parts) -> None:
    d = await parts.router.decide(RoutingRequest(call_id="c", customer=card("regular"), intent="complaint"))
    assert (d.queue, d.max_penalty) == ("complaints", 1)
    assert d.variables()[ChannelVar.max_penalty] == "1"
    (record,) = await parts.stored()
    assert {"skill", "overflow"} <= set(kinds(record))
    assert any("2 after 20 s, 4 after 40 s, 9 after 60 s" in r.detail for r in record.reasons)
    # the skill is a penalty: 1001 (level 5) is at 0, 1004 (level 4) at 1, anyone else an outsider at 9
    assert [parts.rules.penalty(a, "complaints") for a in ("1001", "1004", "1009")] == [0, 1, 9]


async def test_the_callers_language_comes_before_the_topic(parts: Parts) -> None:
    d = await parts.router.decide(RoutingRequest(call_id="e", language="en-GB", intent="complaint"))
    assert d.queue == "english"
    spoken = card("regular").model_copy(update={"language": "en"})
    assert (await parts.router.decide(RoutingRequest(call_id="e2", customer=spoken))).queue == "english"


async def test_the_dedicated_agent_rings_first_when_free_else_the_queue(parts: Parts) -> None:
    mine = card("key_account").model_copy(update={"dedicated_agent": "1003"})
    d = await parts.router.decide(RoutingRequest(call_id="d1", customer=mine))
    assert (d.preferred_agent, d.preferred_ring) == ("1003", 15)
    assert d.variables()[ChannelVar.preferred_agent] == "1003" and d.variables()[ChannelVar.preferred_ring] == "15"
    parts.free.discard("1003")
    d = await parts.router.decide(RoutingRequest(call_id="d2", customer=mine))
    assert d.preferred_agent is None and d.variables()[ChannelVar.preferred_agent] == ""
    first, second = await parts.stored()
    assert first.preferred_reason == "dedicated" and second.preferred_reason is None
    assert any(r.kind == "dedicated" and "not free" in r.detail for r in second.reasons)


async def test_the_sticky_agent_rings_first_and_is_cached() -> None:
    history = FakeHistory(agent="1002")
    parts = Parts(free={"1002"}, history=history)
    d = await parts.router.decide(RoutingRequest(call_id="s1", customer=card("regular", customer_id=42)))
    assert (d.preferred_agent, d.preferred_ring) == ("1002", 10)
    assert history.asked == [(42, NOW - timedelta(days=30))]
    await parts.router.decide(RoutingRequest(call_id="s2", customer=card("regular", customer_id=42)))
    assert len(history.asked) == 1  # the second decision did not ask again
    # a call that ends with another agent makes that agent the sticky one, without asking
    parts.sticky.on_call_ended(
        CallEnded(
            record=CallRecord(
                call_id="x", customer_id=42, agent="1005", started_at=NOW, answered_at=NOW, outcome="answered"
            )
        )
    )
    parts.free.add("1005")
    d = await parts.router.decide(RoutingRequest(call_id="s3", customer=card("regular", customer_id=42)))
    assert d.preferred_agent == "1005" and len(history.asked) == 1
    assert [r.preferred_reason for r in await parts.stored()] == ["sticky", "sticky", "sticky"]
    # walk-in customers are not sticky (routing.yaml: sticky.tiers)
    d = await parts.router.decide(RoutingRequest(call_id="s4", customer=card("walk_in", customer_id=43)))
    assert d.preferred_agent is None and len(history.asked) == 1


async def test_once_loaded_the_sticky_agents_are_all_in_memory() -> None:
    history = FakeHistory(agent="1009")
    parts = Parts(free={"1004", "1005", "1009"}, history=history)
    assert await parts.sticky.load() == 2 and parts.sticky.complete
    d = await parts.router.decide(RoutingRequest(call_id="m1", customer=card("regular", customer_id=42)))
    assert d.preferred_agent == "1004"
    # 43's last call is older than the window; 44 was never served: neither asks the history
    for customer in (43, 44):
        d = await parts.router.decide(
            RoutingRequest(call_id=f"m{customer}", customer=card("vip", customer_id=customer))
        )
        assert d.preferred_agent is None
    assert history.asked == []


async def test_a_slow_history_means_no_sticky_agent_not_a_slow_decision() -> None:
    class Slow(FakeHistory):
        async def last_agent(self, customer_id: int, since: datetime) -> str | None:
            import asyncio

            await asyncio.sleep(5)
            return "1002"

    parts = Parts(free={"1002"}, history=Slow())
    started = datetime.now(UTC)
    d = await parts.router.decide(RoutingRequest(call_id="slow", customer=card("regular")))
    assert d.preferred_agent is None and (datetime.now(UTC) - started).total_seconds() < 1


async def test_a_closed_queue_sends_the_caller_to_the_exit_with_the_next_opening(parts: Parts) -> None:
    raw = parts.rules.model_dump()
    raw["queues"]["support"]["hours"] = "office"
    rules = RoutingRules.model_validate(raw)
    closed = Parts(free=set(), history=FakeHistory(), rules=rules)
    closed.clock = lambda: datetime(2027, 3, 3, 23, 0, tzinfo=UTC)  # 07:00 in Shanghai: opens at 08:00
    closed.router.clock = closed.clock
    d = await closed.router.decide(RoutingRequest(call_id="n", queue="support"))
    assert (d.action, d.open) == (Action.voicemail, False)
    assert d.opens_at == datetime(2027, 3, 4, 0, 0, tzinfo=UTC)
    (record,) = await closed.stored()
    assert record.action == "voicemail" and "hours" in kinds(record)


async def test_with_no_skilled_agent_logged_in_the_pool_is_widened_at_once(parts: Parts) -> None:
    parts.router.pool = lambda queue, max_penalty: 0
    d = await parts.router.decide(RoutingRequest(call_id="w", customer=card("key_account")))
    assert (d.queue, d.max_penalty) == ("key_accounts", 9)
    (record,) = await parts.stored()
    assert record.max_penalty == 9 and "no key_accounts agent logged in" in record.reasons[-1].detail


def test_rules_refuse_unknown_queues_and_levels() -> None:
    queues = Queues.load()
    raw = RoutingRules.load().model_dump()
    raw["intents"]["claim"] = "nowhere"
    with pytest.raises(ValueError, match="intents: nowhere"):
        RoutingRules.model_validate(raw).check_queues(queues.names())
    raw = RoutingRules.load().model_dump()
    raw["agents"]["1001"]["complaints"] = 7
    with pytest.raises(ValueError, match="no penalty"):
        RoutingRules.model_validate(raw)
    raw = RoutingRules.load().model_dump()
    raw["queues"]["complaints"]["overflow"] = [{"after": 40, "max_penalty": 4}, {"after": 20, "max_penalty": 2}]
    with pytest.raises(ValueError, match="increasing"):
        RoutingRules.model_validate(raw)


async def test_the_dialplan_asks_at_queue_entry_when_the_ivr_left_no_acd_decision(parts: Parts) -> None:
    from acd.agi import QueueEntryRouting
    from tests.unit.fakes import FakeAgi, FakeCustomers

    mine = card("vip", customer_id=7).model_copy(update={"dedicated_agent": "1002"})
    customers = FakeCustomers(mine)

    class Agi(FakeAgi):
        async def get_variable(self, name: str) -> str | None:
            return self.variables.get(name)

    agi = Agi(uniqueid="1700000000.9")
    agi.variables.update(
        {"HOTLINE_QUEUE": "support", "HOTLINE_INTENT": "claim", "HOTLINE_CUSTOMER_ID": "7", "HOTLINE_DECIDED_BY": "ivr"}
    )
    entry = QueueEntryRouting(parts.router, lambda: customers)
    await entry.handle(agi)  # type: ignore[arg-type]
    assert customers.asked == ["id:7"]
    assert {k: agi.variables[k] for k in ("HOTLINE_QUEUE", "HOTLINE_PRIORITY", "HOTLINE_DECIDED_BY")} == {
        "HOTLINE_QUEUE": "complaints",
        "HOTLINE_PRIORITY": "10",
        "HOTLINE_DECIDED_BY": "acd",
    }
    assert (agi.variables["HOTLINE_PREFERRED_AGENT"], agi.variables["HOTLINE_MAX_PENALTY"]) == ("1002", "1")
    (record,) = await parts.stored()
    assert record.call_id == "1700000000.9" and record.preferred_reason == "dedicated"


async def test_queue_entry_takes_the_ivr_facts_from_the_dialplan_arguments_without_asking(parts: Parts) -> None:
    from acd.agi import QueueEntryRouting
    from tests.unit.fakes import FakeAgi, FakeCustomers

    customers = FakeCustomers(card("vip", customer_id=7))

    class Agi(FakeAgi):
        async def get_variable(self, name: str) -> str | None:
            raise AssertionError(f"{name} read from the channel: the dialplan passed it")

    agi = Agi(uniqueid="1700000000.10")
    agi.args = ["support", "claim", "main:2", "7"]  # ROUTE_FACTS: queue, intent, IVR path, customer
    await QueueEntryRouting(parts.router, lambda: customers).handle(agi)  # type: ignore[arg-type]
    assert customers.asked == ["id:7"]
    assert (agi.variables["HOTLINE_QUEUE"], agi.variables["HOTLINE_DECIDED_BY"]) == ("complaints", "acd")
    (record,) = await parts.stored()
    assert record.call_id == "1700000000.10"
