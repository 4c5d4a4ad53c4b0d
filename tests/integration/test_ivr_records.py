"""The IVR's records in the real database: node visits and surveys through the outbox (exactly once), the
interaction's self-service flag, and the caller's remembered language and address (crm_bridge)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

from sqlalchemy import select

from cms.models import Interaction
from cms.writers import InteractionWriter
from crm_bridge.service import CallerProfiles, CustomerDirectory
from cti.events import CallEnded, CallRecord
from cti.model import now
from hotline.db import Database
from hotline.demo import load_demo_data
from hotline.outbox import Outbox
from ivr.events import IvrCompleted
from ivr.menu import DEFAULT_MENU
from ivr.models import NodeVisit, SurveyAnswer
from ivr.records import Journal, SurveyRecord, VisitRecord
from shipments.interface import SHIPMENTS
from tests.integration.waiting import until
from tests.unit.fakes import FakeAgi, FakeCustomers
from tests.unit.ivrkit import Kit, Slow


async def test_visits_and_surveys_are_stored_once_each(db: Database, tmp_path: Path) -> None:
    outbox = Outbox(tmp_path / "outbox.sqlite3", db)
    journal = Journal(outbox)
    await outbox.start()
    at = now()
    visits = [
        VisitRecord(
            call_id="9.1",
            seq=n,
            menu_version="v1",
            node=f"n{n}",
            kind="menu",
            result="key 1",
            input="1",
            duration_ms=120,
            at=at + timedelta(seconds=n),
        )
        for n in (1, 2, 3)
    ]
    await journal.keep_visits(visits[:2])
    await journal.keep_visits([visits[2], visits[1]])  # a visit delivered twice (a crash before the delete) lands once
    await journal.survey(SurveyRecord(call_id="9.1", agent="1001", score=2, at=at))
    await journal.survey(SurveyRecord(call_id="9.1", agent="1001", score=5, at=at))  # a second answer wins
    await until(lambda: outbox.stats.pending == 0)
    await outbox.stop()
    async with db.session() as s:
        rows = list((await s.execute(select(NodeVisit).order_by(NodeVisit.seq))).scalars())
        surveys = list((await s.execute(select(SurveyAnswer))).scalars())
    assert [(r.call_id, r.seq, r.node, r.result, r.duration_ms) for r in rows] == [
        ("9.1", 1, "n1", "key 1", 120),
        ("9.1", 2, "n2", "key 1", 120),
        ("9.1", 3, "n3", "key 1", 120),
    ]
    assert [(a.call_id, a.agent, a.score) for a in surveys] == [("9.1", "1001", 5)]


async def test_a_self_service_call_is_marked_on_its_interaction(db: Database, tmp_path: Path) -> None:
    """A real walk (tracking, then 9) through the engine; the visits and the interaction reach PostgreSQL."""
    outbox = Outbox(tmp_path / "outbox.sqlite3", db)
    k = Kit(DEFAULT_MENU, FakeCustomers())
    k.engine.journal = k.engine.nodes.journal = Journal(outbox)
    tracked = SimpleNamespace(
        waybill="7700000000016",
        status=SimpleNamespace(value="delivered"),
        origin="A",
        destination="B",
        last_scan_place=None,
        last_scan_at=None,
        exception=None,
    )
    k.provide(SHIPMENTS, Slow(tracked))
    writer = InteractionWriter(outbox)
    k.bus.subscribe(IvrCompleted, writer.on_ivr_completed)
    k.bus.subscribe(CallEnded, writer.on_call_ended)
    await outbox.start()
    await k.call(FakeAgi(digits=["1", "7700000000016", "9"], uniqueid="77.1"))
    await k.call(FakeAgi(digits=["0"], uniqueid="77.2"))
    t = now()
    for call_id in ("77.1", "77.2", "77.3"):  # 77.3 never saw the IVR (a back-filled kind of call)
        k.bus.publish(CallEnded(record=CallRecord(call_id=call_id, started_at=t, ended_at=t, outcome="x")))
    await k.bus.drain()
    await until(lambda: outbox.stats.pending == 0)
    await outbox.stop()
    async with db.session() as s:
        flags = {
            r.call_id: r.self_service for r in await s.execute(select(Interaction.call_id, Interaction.self_service))
        }
        walk = await s.execute(select(NodeVisit.node).where(NodeVisit.call_id == "77.1").order_by(NodeVisit.seq))
        nodes = list(walk.scalars())
    assert flags == {"77.1": True, "77.2": False, "77.3": None}
    assert nodes[-4:] == ["track_lookup", "track_say", "track_after", "served"]


async def test_the_language_choice_is_remembered_and_the_address_read(db: Database) -> None:
    await load_demo_data(db)
    directory, profiles = CustomerDirectory(db), CallerProfiles(db)
    card = await directory.card_by_phone("13900139000")
    assert card is not None
    await profiles.set_language(card.id, "zh")
    again = await directory.card_by_phone("13900139000")
    assert again is not None and again.language == "zh"
    addresses = await profiles.addresses(card.id)
    assert addresses and addresses[0].text and addresses[0].postal_code
