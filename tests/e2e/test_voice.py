"""Speech through the real Asterisk. A SIPp caller's RTP carries a spoken keyword (espeak-ng, A-law, looped
with silences); the controller asks over AudioSocket while the prompt plays, the word barges in, and the
recogniser's option comes back to the call. This module's stack has the English menus listening (the
demo's default is keys only), so the demo hotline's main menu is answered by voice."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from ivr.voice.config import config_path
from tests.e2e.conftest import fetch_row, wait
from tests.e2e.harness import HotlineStack, Phones

pytestmark = pytest.mark.e2e

VOICE_LINE = "11190"
CALLER = "13911112222"  # unknown: the main menu


def spoken(path: Path, words: str, before_s: float = 1.5, after_s: float = 2.5) -> None:
    """``words`` said once, between silences, as raw 8 kHz A-law (what the SIPp caller streams, looped)."""
    wav = path.with_suffix(".wav")
    subprocess.run(["espeak-ng", "-v", "en-us", "-s", "140", "-w", str(wav), words], check=True)
    subprocess.run(
        ["sox", str(wav), "-t", "al", "-r", "8000", "-c", "1", str(path), "pad", str(before_s), str(after_s)],
        check=True,
    )


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HotlineStack]:
    s = HotlineStack(tmp_path_factory.mktemp("voice-stack"))
    config = yaml.safe_load(config_path().read_text(encoding="utf-8"))
    config["languages"]["en"]["menus"] = True
    (s.workdir / "voice.yaml").write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    s.env["HOTLINE_VOICE_CONFIG"] = str(s.workdir / "voice.yaml")
    agi = f"agi://127.0.0.1:{s.ports['agi']}/voice-test"
    try:
        s.start()
        (s.var / "asterisk-etc" / "extensions_local.conf").write_text(
            f"exten => {VOICE_LINE},1,Answer()\n same => n,AGI({agi})\n same => n,Hangup()\n"
        )
        s.asterisk_cli("dialplan reload")
        yield s
    finally:
        s.stop()


def voice_phones(stack: HotlineStack, work: Path, words: str) -> Phones:
    work.mkdir()
    spoken(work / "caller.alaw", words)  # Phones streams this file instead of its own speech
    return Phones(stack, work)


async def test_a_spoken_keyword_barges_in_and_is_recognised(stack: HotlineStack, tmp_path: Path) -> None:
    phones = voice_phones(stack, tmp_path / "line", "complaint")
    try:
        mark = stack.log_mark()
        # the caller speaks 1.5 s after the answer, while the prompt (~4 s) still plays; no key is pressed
        caller = phones.call(CALLER, digit="9", dtmf_at_ms=20000, hold_ms=1000, number=VOICE_LINE)
        rc = await wait(caller.wait, 45)
        log = stack.log_since(mark)
        assert rc == 0, caller.output()
    finally:
        phones.stop_all()
    answer = re.search(r"voice answer.*", log)
    assert answer, stack.log_tail()
    assert "kind=speech" in answer.group(0) and "option=complaint" in answer.group(0), answer.group(0)
    assert "barged_in=True" in answer.group(0), answer.group(0)  # the word came while the prompt played
    line = re.search(r"voice test line.*", log)
    assert line and "option=complaint" in line.group(0) and "fallback=False" in line.group(0), log


async def test_the_demo_menu_is_answered_by_voice(stack: HotlineStack, tmp_path: Path) -> None:
    """An unknown caller says "complaint" at the hotline's main menu (no key at all): the menu takes option 3
    (complaints and claims) from the spoken word; the visit log keeps what was heard."""
    phones = voice_phones(stack, tmp_path / "menu", "complaint")
    try:
        caller = phones.call(CALLER, digit="#", dtmf_at_ms=14000, hold_ms=500)
        assert await wait(caller.wait, 60) == 0, caller.output()
    finally:
        phones.stop_all()
    row = await fetch_row(stack, "SELECT call_id FROM interactions WHERE caller = $1 AND dialed = '11183'", CALLER)
    main = await fetch_row(  # the visits arrive through the outbox, right after the call
        stack, "SELECT input, result FROM ivr_visits WHERE call_id = $1 AND node = 'main'", row["call_id"]
    )
    assert main["result"] == "said 3" and main["input"] == "complaint", dict(main)
    kind = await fetch_row(
        stack, "SELECT result FROM ivr_visits WHERE call_id = $1 AND node = 'complaint_kind'", row["call_id"]
    )
    assert kind["result"], dict(kind)  # the walk went on to the complaint's next question
