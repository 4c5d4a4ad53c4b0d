"""Finding a call's recording on disk and waiting for Asterisk to finish writing it."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from recordings.service import locate, provisional_path, wait_until_stable


def test_locate_prefers_the_on_demand_file_then_the_first_that_exists(tmp_path: Path) -> None:
    a, b = tmp_path / "2026/11/23/c.wav", tmp_path / "2026/11/24/c.wav"
    assert locate([a, b]) == (None, a, -1)  # nothing written yet: the first candidate, no size
    b.parent.mkdir(parents=True)
    b.write_bytes(b"x" * 44)
    assert locate([a, b]) == (None, b, 44)
    provisional_path(a).parent.mkdir(parents=True)
    provisional_path(a).write_bytes(b"y" * 10)
    assert locate([a, b]) == (provisional_path(a), a, 10)


async def test_a_size_already_seen_is_checked_again_after_the_interval(tmp_path: Path) -> None:
    wav = tmp_path / "c.wav"
    wav.write_bytes(b"x" * 44)

    async def still_writing() -> None:
        await asyncio.sleep(0.01)
        with wav.open("ab") as f:
            f.write(b"y" * 100)

    writer = asyncio.create_task(still_writing())
    began = time.monotonic()
    assert await wait_until_stable(wav, timeout=2.0, interval=0.05, size=44)
    await writer
    # 44 then 144 then 144: two intervals at least, never "stable" on the size the caller passed in
    assert time.monotonic() - began >= 0.1


async def test_a_missing_file_is_not_stable(tmp_path: Path) -> None:
    assert not await wait_until_stable(tmp_path / "none.wav", timeout=0.1, interval=0.02, size=-1)
