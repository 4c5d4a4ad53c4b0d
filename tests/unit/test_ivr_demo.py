"""The demo hotline's paths through the engine, over a scripted channel and scripted services: what the
caller heard (prompts in order), what the walk recorded, what the dialplan and the bus were told."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace

import pytest

from acd.interface import CALLBACKS, ROUTER
from crm_bridge.interface import CALLER_PROFILE
from hotline.fastagi import AgiHangup
from hotline.routing import Action, RoutingDecision
from ivr.events import IvrCompleted, IvrStarted
from ivr.menu import DEFAULT_MENU
from pickups.interface import PICKUPS
from shipments.interface import SHIPMENTS, STATIONS
from shipments.waybills import domestic
from tests.unit.fakes import FakeAgi, FakeCustomers, card
from tests.unit.ivrkit import Kit, Slow
from workorders.interface import WORK_ORDERS

WAYBILL = domestic(770000000001)


def kit(customer: object = None, now: datetime | None = None) -> Kit:
    customers = FakeCustomers(customer)  # type: ignore[arg-type]
    return Kit(DEFAULT_MENU, customers, now) if now else Kit(DEFAULT_MENU, customers)


def played(agi: FakeAgi) -> list[str]:
    """Every prompt the caller heard, in order (stream files and the prompts of GET DATA mixed)."""
    out: list[str] = []
    plays, asks = iter(agi.played), iter(agi.asked)
    for kind in agi.order:
        out.append(str(next(plays)[0] if kind == "play" else next(asks)[0]))
    return out


def tracking(status: str = "in_transit", exception: str | None = None) -> SimpleNamespace:
    return SimpleNamespace(
        waybill=WAYBILL,
        status=SimpleNamespace(value=status),
        origin="Beijing",
        destination="Shanghai",
        last_scan_place="Shanghai Pudong hub",
        last_scan_at=datetime(2026, 11, 23, 1, 30, tzinfo=UTC),
        exception=SimpleNamespace(value=exception) if exception else None,
    )


async def test_zero_reaches_the_support_queue_with_the_walk_recorded() -> None:
    k = kit()
    agi = await k.call(FakeAgi(digits=["0"]))
    assert agi.variables["HOTLINE_QUEUE"] == "support"
    assert agi.variables["HOTLINE_INTENT"] == "agent"
    assert agi.variables["HOTLINE_ACTION"] == "queue"
    assert agi.variables["HOTLINE_LANGUAGE"] == "en"
    assert agi.variables["HOTLINE_SURVEY"] == ""
    assert k.nodes() == ["greeting", "hours", "tier", "main", "agent_load", "agent"]
    assert k.walk()[3:5] == [("main", "key 0"), ("agent_load", "unknown")]  # no ACD figures here
    assert [v.seq for v in k.journal.visits] == list(range(1, 7))
    assert agi.variables["HOTLINE_IVR_PATH"] == "main:0"
    done = k.events.one(IvrCompleted)
    assert done.completed and not done.self_service and done.queue == "support"
    assert done.menu_version == k.store.current.menu.version


async def test_survey_consent_is_left_for_the_dialplan() -> None:
    k = kit()
    k.provide(SHIPMENTS, Slow(tracking()))
    agi = await k.call(FakeAgi(digits=["1", WAYBILL, "0", "1"]))
    assert agi.variables["HOTLINE_SURVEY"] == "1"
    assert agi.variables["HOTLINE_INTENT"] == "tracking"
    assert agi.variables["HOTLINE_IVR_PATH"] == "main:1>track_waybill:ok>track_after:0>track_survey:1"


async def test_tracking_a_known_waybill_is_self_service() -> None:
    k = kit()
    k.provide(SHIPMENTS, Slow(tracking("exception", "customs_delay")))
    agi = await k.call(FakeAgi(digits=["1", WAYBILL, "9"]))
    heard = played(agi)
    start = heard.index("/p/en/your_parcel")
    assert heard[start : start + 4] == [
        "/p/en/your_parcel",
        "/p/en/status_exception",
        "/p/en/last_scan",
        "/t/Shanghai Pudong hub",
    ]
    # 01:30 UTC is 09:30 in Shanghai, on November 23rd
    assert heard[start + 4 : start + 9] == ["/p/en/scanned_on", "/f/en/m11", "/f/en/n23", "/f/en/n9", "/f/en/n30"]
    assert "/p/en/exception_customs_delay" in heard
    assert agi.variables["HOTLINE_ACTION"] == Action.hangup
    done = k.events.one(IvrCompleted)
    assert done.self_service and done.waybill == WAYBILL
    assert ("track_lookup", "found") in k.walk()


async def test_tracking_an_unknown_waybill_then_an_agent_with_the_waybill_on_the_pop() -> None:
    k = kit()
    k.provide(SHIPMENTS, Slow(None))
    agi = await k.call(FakeAgi(digits=["1", WAYBILL, "0", "2"]))
    assert "/p/en/unknown_waybill" in played(agi)
    assert agi.variables["HOTLINE_INTENT"] == "tracking"
    assert agi.variables["HOTLINE_WAYBILL"] == WAYBILL
    assert k.events.one(IvrCompleted).waybill == WAYBILL
    assert ("track_lookup", "not found") in k.walk()


async def test_a_mistyped_waybill_is_asked_again() -> None:
    k = kit()
    k.provide(SHIPMENTS, Slow(None))
    wrong = WAYBILL[:-1] + str((int(WAYBILL[-1]) + 1) % 10)
    agi = await k.call(FakeAgi(digits=["1", wrong, WAYBILL, "9"]))
    assert "/p/en/bad_waybill" in played(agi)
    assert ("track_waybill", "valid (try 2)") in k.walk()


@pytest.mark.parametrize("failure", [RuntimeError("database down"), None])
async def test_a_failed_or_slow_lookup_apologises_and_hands_over(failure: Exception | None) -> None:
    k = kit()
    k.provide(SHIPMENTS, Slow(failure) if failure else Slow(tracking(), delay=5))
    agi = await k.call(FakeAgi(digits=["1", WAYBILL]))
    assert played(agi)[-1] == "/p/en/sorry_problem"
    assert agi.variables["HOTLINE_QUEUE"] == "support"
    assert agi.variables["HOTLINE_INTENT"] == "agent"
    assert ("track_lookup", "failed") in k.walk()
    assert k.nodes()[-1] == "agent"


async def test_pickup_booked_for_a_known_caller_and_the_reference_read_back() -> None:
    k = kit(card())
    address = SimpleNamespace(text="88 Century Avenue", postal_code="200120")
    profile = Slow([address])
    k.provide(CALLER_PROFILE, profile)
    booking = Slow(SimpleNamespace(reference="12345674", station_code="SH01"))
    k.provide(PICKUPS, booking)
    agi = await k.call(FakeAgi(digits=["2", "1", "3", "2", "1000"]))
    heard = played(agi)
    assert "/t/88 Century Avenue" in heard
    reference = [f"/f/en/d{d}" for d in "12345674"]
    first = heard.index("/p/en/pickup_booked")
    assert heard[first + 1 : first + 9] == reference
    assert heard[first + 10 : first + 18] == reference
    name, (request, by) = booking.calls[0]
    assert name == "book" and by == "ivr"
    assert request.pieces == 3 and request.postal_code == "200120" and request.customer_id == 7
    assert request.ready_at == datetime(2026, 11, 24, 2, 0, tzinfo=UTC)  # tomorrow 10:00 in Shanghai
    done = k.events.one(IvrCompleted)
    assert done.self_service and done.pickup_reference == "12345674"


async def test_a_vip_keying_during_the_greeting_skips_the_tier_greeting() -> None:
    k = kit(card("key_account"))
    agi = await k.call(FakeAgi(early="0"))
    assert played(agi) == ["/p/en/welcome"]  # no tier greeting, no menu prompt: the key answered the menu
    assert ("tier_greeting", "skipped") in k.walk()
    assert agi.variables["HOTLINE_IVR_PATH"] == "vip_menu:0" and agi.variables["HOTLINE_PRIORITY"] == "20"


async def test_pickup_for_an_unknown_caller_goes_to_an_agent() -> None:
    k = kit(None)
    agi = await k.call(FakeAgi(digits=["2"]))
    assert agi.variables["HOTLINE_INTENT"] == "pickup"
    assert ("pickup_known", "no") in k.walk()


async def test_complaint_opens_a_work_order_and_queues_for_complaints() -> None:
    k = kit(card())
    desk = Slow(SimpleNamespace(id=42))
    k.provide(WORK_ORDERS, desk)
    agi = await k.call(FakeAgi(digits=["3", "1", WAYBILL, "1"]))
    assert agi.recorded and agi.recorded[0][0].startswith("/rec/ivr-1700000000.1-")
    order, by = desk.calls[0][1]
    assert by == "ivr"
    assert (order.type, order.claim_kind, order.waybill, order.call_id) == ("claim", "damage", WAYBILL, "1700000000.1")
    assert agi.recorded[0][0] in order.notes
    assert agi.variables["HOTLINE_QUEUE"] == "complaints"
    assert agi.variables["HOTLINE_WORK_ORDER"] == "42"
    assert k.events.one(IvrCompleted).work_order_id == 42


async def test_station_by_postal_code_with_today_s_hours() -> None:
    k = kit()
    station = SimpleNamespace(code="SH01", name="Pudong station", city="Shanghai", address="1 Dongfang Road")
    opening = SimpleNamespace(open=True, closes_at=datetime(2026, 11, 23, 10, 0, tzinfo=UTC), next_open=None)
    finder = Slow(lambda *a: station if len(a) == 1 else opening)
    k.provide(STATIONS, finder)
    agi = await k.call(FakeAgi(digits=["4", "200120", "9"]))
    heard = played(agi)
    at = heard.index("/p/en/station_is")
    assert heard[at : at + 6] == [
        "/p/en/station_is",
        "/t/Pudong station",
        "/p/en/station_at",
        "/t/1 Dongfang Road",
        "/p/en/open_until",
        "/f/en/n18",
    ]
    assert "/p/en/opens_at" not in heard
    assert finder.calls[0] == ("serving", ("200120",))


async def test_unknown_postal_code() -> None:
    k = kit()
    k.provide(STATIONS, Slow(None))
    agi = await k.call(FakeAgi(digits=["4", "999999", "9"]))
    assert "/p/en/unknown_postal_code" in played(agi)


SUNDAY_NIGHT = datetime(2026, 11, 22, 14, 0, tzinfo=UTC)  # 22:00 in Shanghai
NATIONAL_DAY = datetime(2026, 10, 1, 4, 0, tzinfo=UTC)  # noon on a holiday


@pytest.mark.parametrize("now", [SUNDAY_NIGHT, NATIONAL_DAY])
async def test_closed_offers_a_callback_at_the_next_opening(now: datetime) -> None:
    k = kit(card(), now)
    callbacks = Slow(SimpleNamespace(id=1))
    k.provide(CALLBACKS, callbacks)
    agi = await k.call(FakeAgi(digits=["1"]))
    assert played(agi)[:3] == ["/p/en/welcome", "/p/en/closed", "/p/en/closed_menu"]
    request = callbacks.calls[0][1][0]
    assert request.reason == "closed" and request.queue == "support" and request.not_before > now
    assert agi.variables["HOTLINE_ACTION"] == Action.hangup
    assert not k.events.one(IvrCompleted).self_service


async def test_closed_without_callbacks_takes_a_message_as_a_work_order() -> None:
    k = kit(None, SUNDAY_NIGHT)
    desk = Slow(SimpleNamespace(id=9))
    k.provide(WORK_ORDERS, desk)
    agi = await k.call(FakeAgi(digits=["1"]))
    assert ("closed_callback", "unavailable") in k.walk()
    assert agi.recorded
    assert desk.calls[0][1][0].type == "inquiry"
    assert agi.variables["HOTLINE_ACTION"] == Action.hangup
    assert agi.variables["HOTLINE_WORK_ORDER"] == "9"


async def test_vip_is_greeted_by_tier_and_queued_high() -> None:
    k = kit(card("vip"))
    agi = await k.call(FakeAgi(digits=["0"]))
    assert played(agi)[:3] == ["/p/en/welcome", "/p/en/tier_vip", "/p/en/vip_menu"]
    assert agi.variables["HOTLINE_PRIORITY"] == "20"
    assert agi.variables["HOTLINE_IVR_PATH"] == "vip_menu:0"
    assert k.events.one(IvrStarted).customer is not None


async def test_remembered_language_is_used_and_a_new_choice_is_remembered() -> None:
    zh = card().model_copy(update={"language": "zh"})
    k = kit(zh)
    agi = await k.call(FakeAgi(digits=["0"]))
    assert played(agi)[:2] == ["/p/zh/welcome", "/p/zh/main_menu"]
    assert agi.variables["HOTLINE_LANGUAGE"] == "zh"

    k2 = kit(card())
    profile = Slow(None)
    k2.provide(CALLER_PROFILE, profile)
    agi2 = await k2.call(FakeAgi(digits=["9", "0"]))
    assert played(agi2)[1:3] == ["/p/en/main_menu", "/p/zh/main_menu"]
    assert agi2.variables["HOTLINE_LANGUAGE"] == "zh"
    assert ("set_language", (7, "zh")) in profile.calls


async def test_three_silences_end_at_a_person() -> None:
    k = kit()
    agi = await k.call(FakeAgi(digits=["", "", ""]))
    assert ("main", "exhausted") in k.walk()
    assert agi.variables["HOTLINE_IVR_PATH"] == "main:t>main:t>main:t>main:fallback"
    assert agi.variables["HOTLINE_QUEUE"] == "support"
    assert played(agi).count("/p/en/no_input") == 2  # between tries, not after the last


async def test_the_router_decides_when_there_is_one_and_a_slow_one_is_not_waited_for() -> None:
    k = kit()
    k.provide(ROUTER, Slow(RoutingDecision(queue="complaints", priority=5, intent="agent")))
    agi = await k.call(FakeAgi(digits=["0"]))
    assert (agi.variables["HOTLINE_QUEUE"], agi.variables["HOTLINE_PRIORITY"]) == ("complaints", "5")

    slow = kit(card("vip"))
    slow.provide(ROUTER, Slow(RoutingDecision(queue="complaints"), delay=5))
    agi = await slow.call(FakeAgi(digits=["0"]))
    assert (agi.variables["HOTLINE_QUEUE"], agi.variables["HOTLINE_PRIORITY"]) == ("support", "20")


async def test_visits_are_on_disk_before_the_caller_is_next_spoken_to_and_when_the_walk_ends() -> None:
    """The nodes that neither speak nor wait (hours, tier, queue load, queue) travel with the visits before them:
    two local writes instead of six, the first before the main menu is asked."""
    k = kit()
    agi = FakeAgi(digits=["0"])
    k.journal.timeline = agi.order
    await k.call(agi)
    assert k.journal.batches == [["greeting", "hours", "tier"], ["main", "agent_load", "agent"]]
    assert agi.order == ["play", "kept", "ask", "kept"]


async def test_a_caller_who_hangs_up_mid_walk_leaves_every_visit_kept() -> None:
    k = kit()
    with pytest.raises(AgiHangup):
        await k.call(FakeAgi(hangup_after=0))
    assert [node for batch in k.journal.batches for node in batch] == k.nodes() == ["greeting", "hours", "tier", "main"]


async def test_hangup_in_the_menu_is_recorded_and_published() -> None:
    k = kit()
    with pytest.raises(AgiHangup):  # the FastAGI server ends the session on it
        await k.call(FakeAgi(hangup_after=0))
    assert k.walk()[-1] == ("main", "hangup")
    done = k.events.one(IvrCompleted)
    assert not done.completed and not done.self_service


async def test_survey_after_the_conversation_is_stored_against_the_agent() -> None:
    k = kit()
    agi = FakeAgi(digits=["4"])
    agi.channel = {"MEMBERINTERFACE": "PJSIP/1001", "HOTLINE_LANGUAGE": "zh"}
    await k.engine.survey(agi)  # type: ignore[arg-type]
    assert agi.asked[0][0] == "/p/zh/survey_question"
    assert [(s.call_id, s.agent, s.score) for s in k.journal.surveys] == [("1700000000.1", "1001", 4)]
    assert k.journal.visits[0].seq > 1000  # apart from the first walk's visits of the same call
    assert Path(agi.played[-1][0]) == Path("/p/zh/survey_thanks")


async def test_a_message_left_before_hanging_up_still_becomes_a_work_order() -> None:
    k = kit(None, SUNDAY_NIGHT)
    desk = Slow(SimpleNamespace(id=11))
    k.provide(WORK_ORDERS, desk)

    class HangsUpWhileRecording(FakeAgi):
        async def record_file(self, path: str, max_ms: int, silence_s: int = 3) -> str:
            await super().record_file(path, max_ms, silence_s)
            self.hung_up = True
            raise AgiHangup("caller hung up")

    agi = HangsUpWhileRecording(digits=["2"])
    with pytest.raises(AgiHangup):
        await k.call(agi)
    order = desk.calls[0][1][0]
    assert order.type == "inquiry" and agi.recorded[0][0] in (order.notes or "")
    assert k.walk()[-1] == ("closed_message", "hangup")


async def test_a_pickup_the_service_refuses_goes_to_an_agent_with_an_explanation() -> None:
    k = kit(card())
    k.provide(CALLER_PROFILE, Slow([SimpleNamespace(text="1 Road", postal_code="200120")]))
    k.provide(PICKUPS, Slow(RuntimeError("window refused")))
    agi = await k.call(FakeAgi(digits=["2", "1", "3", "1", "0700"]))
    assert ("pickup_book", "failed") in k.walk()
    assert "/p/en/pickup_failed" in played(agi)
    assert agi.variables["HOTLINE_INTENT"] == "pickup"


async def test_a_complaint_without_the_work_order_service_still_reaches_the_complaints_queue() -> None:
    k = kit(None)
    agi = await k.call(FakeAgi(digits=["3", "4", WAYBILL, "2"]))
    assert ("complaint_open", "unavailable") in k.walk()
    assert agi.variables["HOTLINE_QUEUE"] == "complaints"
    assert agi.variables["HOTLINE_WORK_ORDER"] == ""


async def test_the_database_down_at_the_start_still_serves_the_menu() -> None:
    k = Kit(DEFAULT_MENU, FakeCustomers(RuntimeError("database down")))
    agi = await k.call(FakeAgi(digits=["2"]))  # a pickup needs a known caller: an agent instead
    assert k.events.one(IvrStarted).lookup_failed
    assert ("pickup_known", "no") in k.walk()
    assert agi.variables["HOTLINE_INTENT"] == "pickup"


class CountingAgi(FakeAgi):
    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.written: list[str] = []

    async def set_variable(self, name: str, value: str) -> None:
        self.written.append(name)
        await super().set_variable(name, value)


async def test_the_ivr_writes_only_the_variables_that_differ_from_the_dialplans_presets() -> None:
    agi = await kit().call(CountingAgi(digits=["0"]))
    assert {"HOTLINE_QUEUE", "HOTLINE_IVR_PATH", "HOTLINE_INTENT", "HOTLINE_LANGUAGE"} <= set(agi.written)
    assert not {"HOTLINE_ACTION", "HOTLINE_PRIORITY", "HOTLINE_PREFERRED_AGENT", "HOTLINE_MAX_WAIT"} & set(agi.written)
    assert agi.variables["HOTLINE_ACTION"] == "queue" and agi.variables["HOTLINE_PREFERRED_AGENT"] == ""
