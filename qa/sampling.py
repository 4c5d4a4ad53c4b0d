"""Which recorded calls of an agent's month are reviewed: a reproducible, uniform random choice.

Every call gets a key, the SHA-256 of (seed, month, agent, recording id); the sample is the ``n`` calls with
the smallest keys. The same month, agent, seed and calls always give the same sample, on any machine and in
any order the calls are listed (no random-number state is involved), and every subset of ``n`` calls is
equally likely, since the keys behave as independent uniform draws. A sample drawn before the month ended is
kept and topped up later from the calls not yet chosen, again by smallest key.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Self, TypeVar
from zoneinfo import ZoneInfo

from recordings.interface import RecordedCall

MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
C = TypeVar("C", bound=RecordedCall)


@dataclass(frozen=True, order=True)
class Month:
    year: int
    month: int

    @classmethod
    def parse(cls, text: str) -> Self:
        m = MONTH.match(text)
        if not m:
            raise ValueError(f"a month is YYYY-MM, not {text!r}")
        return cls(int(m.group(1)), int(m.group(2)))

    @classmethod
    def of(cls, moment: datetime, zone: ZoneInfo) -> Self:
        local = moment.astimezone(zone)
        return cls(local.year, local.month)

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    def previous(self) -> Month:
        return Month(self.year - 1, 12) if self.month == 1 else Month(self.year, self.month - 1)

    def next(self) -> Month:
        return Month(self.year + 1, 1) if self.month == 12 else Month(self.year, self.month + 1)

    def bounds(self, zone: ZoneInfo) -> tuple[datetime, datetime]:
        """[first instant, first instant of the next month) in ``zone``, as aware datetimes."""
        after = self.next()
        start = datetime(self.year, self.month, 1, tzinfo=zone)
        return start, datetime(after.year, after.month, 1, tzinfo=zone)

    def first_day(self) -> date:
        return date(self.year, self.month, 1)

    def last_day(self) -> date:
        return self.next().first_day() - timedelta(days=1)


def sample_key(seed: str, month: Month, agent: str, recording_id: int) -> str:
    """The call's draw, as 64 hex digits (compared as text, which orders them as numbers)."""
    material = f"{seed}\x1f{month}\x1f{agent}\x1f{recording_id}".encode()
    return hashlib.sha256(material).hexdigest()


def choose(
    calls: Iterable[C], n: int, seed: str, month: Month, agent: str, already: Sequence[int] = ()
) -> list[tuple[str, C]]:
    """The calls to add so that ``agent``'s sample of ``month`` holds ``n`` (``already``: recording ids
    sampled before, kept), smallest key first, each with its key."""
    wanted = n - len(already)
    if wanted <= 0:
        return []
    taken = set(already)
    keyed = [(sample_key(seed, month, agent, c.recording_id), c) for c in calls if c.recording_id not in taken]
    keyed.sort(key=lambda kc: (kc[0], kc[1].recording_id))
    return keyed[:wanted]
