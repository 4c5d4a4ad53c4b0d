"""Speech through the real Asterisk: a SIPp caller whose RTP carries a spoken keyword (espeak-ng, A-law)
reaches the speech test line; the controller asks over AudioSocket while the prompt plays, the caller's
word barges in, and the recogniser's option comes back to the AGI."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from tests.e2e.conftest import wait
from tests.e2e.harness import HotlineStack, Phones

pytestmark = pytest.mark.e2e

VOICE_LINE = "11190"


def spoken(path: Path, words: str, before_s: float = 1.5, after_s: float = 2.5) -> None:
    """``words`` said once, between silences, as raw 8 kHz A-law (what the SIPp caller streams, looped)."""
    wav = path.with_suffix(".wav")
    subprocess.run(["espeak-ng", "-v", "en-us", "-s", "140", "-w", str(wav), words], check=True)
    subprocess.run(
        ["sox", str(wav), "-t", "al", "-r", "8000", "-c", "1", str(path), "pad", str(before_s), str(after_s)],
        check=True,
    )


@pytest.fixture
def voice_line(stack: HotlineStack) -> str:
    agi = f"agi://127.0.0.1:{stack.ports['agi']}/voice-test"
    (stack.var / "asterisk-etc" / "extensions_local.conf").write_text(
        f"exten => {VOICE_LINE},1,Answer()\n same => n,AGI({agi})\n same => n,Hangup()\n"
    )
    stack.asterisk_cli("dialplan reload")
    return VOICE_LINE


async def test_a_spoken_keyword_barges_in_and_is_recognised(
    stack: HotlineStack, voice_line: str, tmp_path: Path
) -> None:
    spoken(tmp_path / "caller.alaw", "complaint")  # Phones uses this file instead of its own speech
    phones = Phones(stack, tmp_path)
    try:
        mark = stack.log_mark()
        # the caller speaks 1.5 s after the answer, while the prompt (~4 s) still plays; no key is pressed
        caller = phones.call("13911112222", digit="9", dtmf_at_ms=20000, hold_ms=1000, number=voice_line)
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
