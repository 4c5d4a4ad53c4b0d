"""The IVR's queue-load condition over the wired controller: the ACD's ``QUEUE_LOAD`` reads Asterisk's
QueueSummary (faked at the AMI boundary), the demo menu offers a call back while the wait is long, and the
request is stored by the ACD's callbacks in PostgreSQL; with an agent free the caller is queued."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from acd.models import CallbackRow
from acd.plugin import AcdPlugin
from hotline.db import Database
from ivr.menu import DEFAULT_MENU
from tests.integration.appkit import FakeAmi, Kit, app_kit
from tests.unit.fakes import FakeAgi, FakeCustomers
from tests.unit.ivrkit import Kit as IvrKit


class SummaryAmi(FakeAmi):
    def __init__(self) -> None:
        super().__init__()
        self.summary: dict[str, str] = {}

    async def action(self, name: str, as_list: bool = False, **fields: Any) -> dict[str, Any]:
        answer = await super().action(name, as_list, **fields)
        if name == "QueueSummary":
            return {
                "Response": "Success",
                "events": [{"Event": "QueueSummary", "Queue": fields["Queue"], **self.summary}],
            }
        return answer


@pytest.fixture
async def kit(db: Database, pg_url: str, tmp_path: Path) -> AsyncIterator[Kit]:
    async with app_kit(pg_url, tmp_path) as k:
        k.ami = SummaryAmi()
        plugin = k.controller.plugin("acd")
        assert isinstance(plugin, AcdPlugin)
        plugin.loads.ami = k.ami
        yield k


def ivr_over(kit: Kit) -> IvrKit:
    ivr = IvrKit(DEFAULT_MENU, FakeCustomers())
    ivr.domain.services = kit.controller.core.services  # the ACD's real services
    ivr.domain.timeout = 5.0
    return ivr


async def test_a_long_wait_books_a_callback_stored_by_the_acd(kit: Kit, db: Database) -> None:
    assert isinstance(kit.ami, SummaryAmi)
    kit.ami.summary = {"LoggedIn": "2", "Available": "0", "Callers": "7", "TalkTime": "100", "LongestHoldTime": "240"}
    ivr = ivr_over(kit)
    agi = await ivr.call(FakeAgi(digits=["0", "1"], caller="13311119999", uniqueid="load.1"))
    assert ("agent_load", "yes") in ivr.walk() and ("long_wait_callback", "requested") in ivr.walk()
    assert ivr.journal.visits[4].input == "waiting 7, wait 400 s"  # (7 + 1) callers at 100 s, 2 agents
    assert "/f/en/n7" in [str(p) for p, _ in agi.played]  # "about 7 minutes"
    assert ("QueueSummary", "support") in [(a["Action"], a.get("Queue")) for a in kit.ami.actions]
    async with db.session() as s:
        rows = list((await s.execute(select(CallbackRow).where(CallbackRow.call_id == "load.1"))).scalars())
    assert [(r.number, r.queue, r.reason, r.state) for r in rows] == [
        ("13311119999", "support", "long_wait", "pending")
    ]


async def test_a_free_agent_means_the_queue_at_once(kit: Kit, db: Database) -> None:
    assert isinstance(kit.ami, SummaryAmi)
    kit.ami.summary = {"LoggedIn": "2", "Available": "1", "Callers": "0", "TalkTime": "100"}
    ivr = ivr_over(kit)
    agi = await ivr.call(FakeAgi(digits=["0"], uniqueid="load.2"))
    assert ivr.walk()[-2:] == [("agent_load", "no"), ("agent", ivr.walk()[-1][1])]
    assert agi.variables["HOTLINE_QUEUE"] == "support"
    async with db.session() as s:
        assert (await s.execute(select(CallbackRow).where(CallbackRow.call_id == "load.2"))).first() is None
