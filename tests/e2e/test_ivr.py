"""The demo hotline's self-service paths through the real Asterisk, by RFC 2833 DTMF from SIPp callers.

One stack for the module, with the IVR's clock read from a file the tests write (closed hours) and the menu
read from a copy the tests may break (live reload). What the caller experienced is read from the node-visit
log (``ivr_visits``), what was stored from the domain's tables; several callers run at once to keep the
module short.
"""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import httpx
import pytest

from acd.demo import demo_agent_password, demo_sip_password
from shipments.waybills import domestic
from tests.e2e.conftest import fetch_all, fetch_row
from tests.e2e.harness import HotlineStack, Phones, SippProcess, free_port, media_ports, write_menu

pytestmark = pytest.mark.e2e

KNOWN_WAYBILL = "7700000000024"  # in transit, held at the Beijing hub
UNKNOWN_WAYBILL = domestic(123456789012)  # a valid check digit, no such parcel
LI_NA = "13900139000"  # regular, English, an address on file

STEPS = 6  # slots in tests/e2e/sipp/ivr_caller.xml


def keyed_ms(keys: str) -> int:
    return 400 + 350 * len(keys)  # SIPp plays each digit for 250 ms with a gap


def ivr_call(phones: Phones, caller: str, steps: list[tuple[int, str]], hold_ms: int) -> SippProcess:
    """A caller keying ``steps``: (ms to wait after the previous step, keys); ``hold_ms`` later it hangs up
    (Asterisk hanging up first ends the call cleanly too)."""
    assert 1 <= len(steps) <= STEPS, f"ivr_caller.xml keys 1 to {STEPS} steps"
    args = ["-s", "11183", "-m", "1", "-timeout", "120", "-mp", str(media_ports(phones.stack.rtp_range))]
    args += ["-set", "caller", caller, "-set", "hold", str(hold_ms), "-set", "steps", str(len(steps))]
    for n, (wait, keys) in enumerate(steps, 1):
        args += ["-set", f"wait{n}", str(wait), "-set", f"keys{n}", keys, "-set", f"keyed{n}", str(keyed_ms(keys))]
    return phones._sipp("ivr", "ivr_caller.xml", args)


@pytest.fixture(scope="module")
def ivr_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HotlineStack]:
    work = tmp_path_factory.mktemp("ivr-stack")
    menu = work / "menu.yaml"
    write_menu(menu)
    s = HotlineStack(work)
    s.env.update(
        {
            "HOTLINE_IVR_MENU": str(menu),
            "HOTLINE_IVR_CLOCK_FILE": str(work / "ivr-clock"),
            "HOTLINE_IVR_RELOAD_EVERY": "0.5",
        }
    )
    try:
        s.start()
        yield s
    finally:
        s.stop()


@pytest.fixture
def ivr_phones(ivr_stack: HotlineStack, tmp_path: Path) -> Iterator[Phones]:
    p = Phones(ivr_stack, tmp_path)
    try:
        yield p
    finally:
        p.stop_all()


async def walk_of(stack: HotlineStack, caller: str, last_node: str, timeout: float = 60) -> list[asyncpg.Record]:
    """The visits of ``caller``'s latest call once its walk reached ``last_node``."""
    deadline = time.monotonic() + timeout
    while True:
        rows = await fetch_all(
            stack,
            "SELECT v.* FROM ivr_visits v JOIN interactions i ON i.call_id = v.call_id "
            "WHERE i.caller = $1 ORDER BY i.started_at DESC, v.seq",
            caller,
        )
        if rows:
            latest = [r for r in rows if r["call_id"] == rows[0]["call_id"]]
            if any(r["node"] == last_node for r in latest):
                return latest
        if time.monotonic() > deadline:
            raise AssertionError(f"{caller}: no walk through {last_node} within {timeout} s: {rows}")
        await asyncio.sleep(0.5)


def nodes(walk: list[asyncpg.Record]) -> list[tuple[str, str]]:
    return [(r["node"], r["result"]) for r in walk]


async def finished(proc: SippProcess, timeout: float = 120) -> None:
    rc = await asyncio.to_thread(proc.wait, timeout)
    assert rc == 0, proc.output()


async def test_self_service_paths_by_dtmf(ivr_stack: HotlineStack, ivr_phones: Phones) -> None:
    """Tracking (a known waybill, an unknown one), a pickup booked and read back, a complaint opening a
    work order for the complaints queue, a station found by postal code — five callers at once."""
    calls = [
        # 1 during the greeting, the waybill and #, then 9 (end) during the menu after the status
        ivr_call(ivr_phones, "13311110001", [(2500, "1"), (2000, KNOWN_WAYBILL + "#"), (16000, "9")], 15000),
        ivr_call(
            ivr_phones, "13311110002", [(2500, "1"), (2000, UNKNOWN_WAYBILL + "#"), (5000, "0"), (4000, "2")], 8000
        ),
        # 2: address confirmed, 3 pieces, tomorrow, ready at 10:00
        ivr_call(ivr_phones, LI_NA, [(2500, "2"), (12500, "1"), (2500, "3#"), (2500, "2"), (3000, "1000")], 30000),
        # 3: a damaged parcel, its waybill, no description
        ivr_call(
            ivr_phones, "13311110004", [(2500, "3"), (2500, "1"), (2500, KNOWN_WAYBILL + "#"), (3500, "2")], 10000
        ),
        # 4: a postal code of Beijing Chaoyang, then 9 after the address and hours
        ivr_call(ivr_phones, "13311110005", [(2500, "4"), (2500, "100020"), (20000, "9")], 12000),
    ]
    for proc in calls:
        await finished(proc)

    tracked = nodes(await walk_of(ivr_stack, "13311110001", "served"))
    assert [n for n, _ in tracked][-6:] == [
        "main",
        "track_waybill",
        "track_lookup",
        "track_say",
        "track_after",
        "served",
    ]
    assert ("track_lookup", "found") in tracked and ("track_after", "key 9") in tracked
    row = await fetch_row(ivr_stack, "SELECT * FROM interactions WHERE caller = $1", "13311110001")
    assert (row["self_service"] is True and row["queue"] is None) or row["queue"] == "support"

    unknown = nodes(await walk_of(ivr_stack, "13311110002", "track_agent"))
    assert ("track_lookup", "not found") in unknown and ("track_after", "key 0") in unknown
    row = await fetch_row(ivr_stack, "SELECT * FROM interactions WHERE caller = $1", "13311110002")
    assert row["self_service"] is False and row["intent"] == "tracking"

    pickup = nodes(await walk_of(ivr_stack, LI_NA, "served"))
    assert ("pickup_customer", "found") in pickup and ("pickup_confirm", "key 1") in pickup
    booked = [r for n, r in pickup if n == "pickup_book"]
    assert booked and booked[0].startswith("done ")
    reference = booked[0].removeprefix("done ")
    order = await fetch_row(ivr_stack, "SELECT * FROM pickups WHERE reference = $1", reference)
    assert order["pieces"] == 3 and order["booked_by"] == "ivr" and order["postal_code"] == "200030"
    assert ("pickup_done", "said") in pickup  # the reference read back digit by digit

    complaint = await walk_of(ivr_stack, "13311110004", "complaint_agent")
    opened = [r["result"] for r in complaint if r["node"] == "complaint_open"]
    assert opened and opened[0].startswith("done ")
    work_order = await fetch_row(
        ivr_stack, "SELECT * FROM work_orders WHERE id = $1", int(opened[0].removeprefix("done "))
    )
    assert work_order["type"] == "claim" and work_order["claim_kind"] == "damage"
    assert work_order["waybill"] == KNOWN_WAYBILL
    row = await fetch_row(ivr_stack, "SELECT * FROM interactions WHERE caller = $1", "13311110004")
    assert row["queue"] == "complaints" and row["intent"] == "complaint"

    station = nodes(await walk_of(ivr_stack, "13311110005", "served"))
    assert ("station_postal", "valid") in station and ("station_lookup", "found") in station
    assert ("station_say", "said") in station


async def test_closed_hours_take_a_message_as_a_work_order(ivr_stack: HotlineStack, ivr_phones: Phones) -> None:
    clock = ivr_stack.workdir / "ivr-clock"
    clock.write_text("2026-10-01T12:00:00+08:00")  # National Day: closed all day
    try:
        # 2 (after the hours are told): leave a message, ended with #
        caller = ivr_call(ivr_phones, "13311110006", [(13000, "2"), (8000, "#")], 15000)
        await finished(caller)
    finally:
        clock.unlink()
    walk = nodes(await walk_of(ivr_stack, "13311110006", "closed_end"))
    assert walk[:3] == [("greeting", "played"), ("hours", "no"), ("closed", "played")]
    message = [r for n, r in walk if n == "closed_message"]
    assert message and message[0].startswith("work order ")
    order = await fetch_row(
        ivr_stack, "SELECT * FROM work_orders WHERE id = $1", int(message[0].removeprefix("work order "))
    )
    assert order["type"] == "inquiry" and ".wav" in order["notes"]
    row = await fetch_row(ivr_stack, "SELECT * FROM interactions WHERE caller = $1", "13311110006")
    assert row["self_service"] is False


async def test_a_broken_menu_reloaded_live_keeps_the_last_good_one(ivr_stack: HotlineStack, ivr_phones: Phones) -> None:
    menu = Path(ivr_stack.env["HOTLINE_IVR_MENU"])
    good = await asyncio.to_thread(menu.read_text)
    before = ivr_stack.health()
    assert before is not None
    version = before["ivr"]["menu_version"]
    try:
        await asyncio.to_thread(menu.write_text, good.replace("next: track_lookup", "next: nowhere"))
        deadline = time.monotonic() + 10
        while not (ivr_stack.health() or {}).get("ivr", {}).get("menu_error"):
            assert time.monotonic() < deadline, ivr_stack.health()
            await asyncio.sleep(0.3)
        health = ivr_stack.health()
        assert health is not None
        error = health["ivr"]["menu_error"]
        assert str(menu) in error and "node 'track_waybill'" in error and "'nowhere'" in error
        assert health["ivr"]["menu_version"] == version
        caller = ivr_call(ivr_phones, "13311110007", [(2500, "1"), (2000, KNOWN_WAYBILL + "#"), (16000, "9")], 15000)
        await finished(caller)
        walk = await walk_of(ivr_stack, "13311110007", "served")
        assert {r["menu_version"] for r in walk} == {version}
        assert ("track_lookup", "found") in nodes(walk)
    finally:
        await asyncio.to_thread(menu.write_text, good)


async def test_a_caller_who_agreed_scores_the_agent_after_the_conversation(
    ivr_stack: HotlineStack, ivr_phones: Phones
) -> None:
    """Tracking, 0 for an agent, 1 to the survey offer; the agent answers and hangs up; the caller, kept on the
    line, keys 4: the score is stored against the call and the agent."""
    extension = "1009"
    port = free_port(socket.SOCK_DGRAM)
    args = ["-m", "1", "-timeout", "120", "-set", "ring", "1000", "-set", "talk", "3000"]
    media = {"phone.alaw": ivr_phones.workdir / "agent.alaw"}
    agent = ivr_phones._sipp("agent", "phone_hangs_up.xml", args, port=port, media=media)
    await asyncio.sleep(0.3)
    await asyncio.to_thread(ivr_phones.register, extension, demo_sip_password(extension), port)
    async with httpx.AsyncClient(base_url=ivr_stack.url, timeout=15) as http:
        r = await http.post("/api/session", json={"username": extension, "password": demo_agent_password(extension)})
        headers = {"Authorization": f"Bearer {r.json()['token']}"}
        assert (await http.post("/api/agents/me/login", headers=headers)).status_code == 200
        try:
            caller = ivr_call(
                ivr_phones,
                "13311110008",
                [(2500, "1"), (2000, KNOWN_WAYBILL + "#"), (16000, "0"), (4000, "1"), (9000, "4")],
                12000,
            )
            await finished(caller)
            await finished(agent, 30)
        finally:
            await http.post("/api/agents/me/logout", headers=headers)
    walk = nodes(await walk_of(ivr_stack, "13311110008", "survey_done"))
    assert ("track_survey", "key 1") in walk and ("track_agent", "queue support p0") in walk
    assert ("survey_after", "score 4") in walk
    row = await fetch_row(ivr_stack, "SELECT * FROM interactions WHERE caller = $1", "13311110008")
    assert row["agent"] == extension and row["outcome"] == "answered"
    survey = await fetch_row(ivr_stack, "SELECT * FROM ivr_surveys WHERE call_id = $1", row["call_id"])
    assert (survey["agent"], survey["score"]) == (extension, 4)
