"""The CMS's figures, each defined once, as pure functions of summed counters (``Totals``).

Reports add up the 15-minute aggregates of a period (any grouping: interval, day, queue, agent) into one
``Totals`` and call ``figures``; nothing here touches the database. docs/METRICS.md says the same in prose.

A call counts in the 15-minute interval in which it entered its queue (or started, if it never queued).
Every ratio is None when its denominator is 0 (nothing to measure is not 0 %).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from cms.report_config import AbandonsWithinThreshold


@dataclass
class Totals:
    """Counters and seconds summed over calls (and agent time) of a period."""

    calls: int = 0  # every call that started, queued or not (IVR-only ones too)
    offered: int = 0  # calls that entered a queue (short abandons included)
    answered: int = 0  # queued calls an agent answered (handled calls)
    abandoned: int = 0  # queued calls whose caller hung up while waiting (short abandons included)
    short_abandoned: int = 0  # abandons sooner than the short-abandon threshold
    timed_out: int = 0  # left the queue unanswered without hanging up (timeout, no agents, a key)
    answered_in_sl: int = 0  # answered within the queue's service-level threshold
    abandoned_in_sl: int = 0  # abandoned (not short) within the threshold
    wait_sum: float = 0.0  # seconds waited by the answered calls before the answer
    wait_max: float = 0.0  # the longest wait before an answer
    abandon_wait_sum: float = 0.0  # seconds waited by the (not short) abandoned calls
    talk_sum: float = 0.0  # seconds connected to an agent, hold excluded
    hold_sum: float = 0.0  # seconds the agent held the caller
    acw_sum: float = 0.0  # seconds of after-call work (the agent's wrap-up following the call)
    ring_sum: float = 0.0  # seconds the answering agent's phone rang
    transfers: int = 0
    ivr_known: int = 0  # calls the IVR reported on (it ran)
    ivr_contained: int = 0  # of those, served by the IVR alone (interactions.self_service)
    fcr_eligible: int = 0  # answered calls with a known customer or number
    fcr_repeated: int = 0  # of those, followed by another call of the same customer within the FCR window
    csat_sum: int = 0  # survey scores (1–5) of the calls
    csat_count: int = 0
    logged_in_seconds: float = 0.0  # agent time in any state but logged out
    available_seconds: float = 0.0  # agent time available (idle, waiting for a call)
    handling_seconds: float = 0.0  # agent time ringing, on a call, on hold or in wrap-up
    paused_seconds: float = 0.0

    def add(self, other: Totals) -> None:
        mine, theirs = self.__dict__, other.__dict__
        for name in SUMMED:
            mine[name] += theirs[name]
        if other.wait_max > self.wait_max:
            self.wait_max = other.wait_max

    @classmethod
    def of(cls, row: Mapping[str, Any]) -> Totals:
        """Totals from a mapping of the same names (a database row); missing or NULL values are 0."""
        return cls(**{k: v for k, v in row.items() if k in NAMES and v is not None})


NAMES = frozenset(f.name for f in fields(Totals))
SUMMED = tuple(sorted(NAMES - {"wait_max"}))


def _ratio(num: float, den: float) -> float | None:
    return num / den if den > 0 else None


def counted_offered(t: Totals) -> int:
    """Offered calls that count: those that entered a queue, short abandons left out."""
    return t.offered - t.short_abandoned


def counted_abandoned(t: Totals) -> int:
    """Abandons that count: callers who hung up in the queue after the short-abandon threshold."""
    return t.abandoned - t.short_abandoned


def service_level(t: Totals, abandons: AbandonsWithinThreshold = AbandonsWithinThreshold.neutral) -> float | None:
    """Share of the counted offered calls answered within their queue's threshold (``reports.yaml``).

    Calls that timed out of the queue and abandons after the threshold count as failures. An abandon within
    the threshold (not short) counts as configured: ``neutral`` leaves it out of the denominator, ``failed``
    keeps it as a failure, ``met`` as a success. Short abandons are never counted.
    """
    offered = counted_offered(t)
    if abandons is AbandonsWithinThreshold.neutral:
        return _ratio(t.answered_in_sl, offered - t.abandoned_in_sl)
    if abandons is AbandonsWithinThreshold.met:
        return _ratio(t.answered_in_sl + t.abandoned_in_sl, offered)
    return _ratio(t.answered_in_sl, offered)


def asa(t: Totals) -> float | None:
    """Average speed of answer: seconds in queue before the answer, averaged over the answered calls."""
    return _ratio(t.wait_sum, t.answered)


def att(t: Totals) -> float | None:
    """Average talk time: seconds connected to the agent, hold excluded, per answered call."""
    return _ratio(t.talk_sum, t.answered)


def average_hold(t: Totals) -> float | None:
    """Average hold: seconds on hold per answered call."""
    return _ratio(t.hold_sum, t.answered)


def acw(t: Totals) -> float | None:
    """Average after-call work: seconds of the answering agent's wrap-up after the call, per answered call
    (0 for a call whose queue has no wrap-up)."""
    return _ratio(t.acw_sum, t.answered)


def aht(t: Totals) -> float | None:
    """Average handle time = (talk + hold + after-call work) / answered calls, i.e. ATT + hold + ACW."""
    return _ratio(t.talk_sum + t.hold_sum + t.acw_sum, t.answered)


def abandon_rate(t: Totals) -> float | None:
    """Counted abandons / counted offered calls (short abandons out of both)."""
    return _ratio(counted_abandoned(t), counted_offered(t))


def fcr(t: Totals) -> float | None:
    """First-call resolution: share of answered calls with a known customer (or number) after which that
    customer did not call again within ``fcr_days``. A call of the last ``fcr_days`` is provisional: a repeat
    may still come."""
    return _ratio(t.fcr_eligible - t.fcr_repeated, t.fcr_eligible)


def occupancy(t: Totals) -> float | None:
    """Agents' handling time / (handling + available time): how busy they were while they could take calls.
    Handling = ringing, on a call, on hold, wrap-up."""
    return _ratio(t.handling_seconds, t.handling_seconds + t.available_seconds)


def utilisation(t: Totals) -> float | None:
    """Agents' handling time / logged-in time (pauses included in the logged-in time)."""
    return _ratio(t.handling_seconds, t.logged_in_seconds)


def ivr_containment(t: Totals) -> float | None:
    """Share of the calls the IVR reported on that it served alone (no agent needed)."""
    return _ratio(t.ivr_contained, t.ivr_known)


def csat(t: Totals) -> float | None:
    """Mean survey score (1–5) of the surveyed calls."""
    return _ratio(t.csat_sum, t.csat_count)


def figures(t: Totals, abandons: AbandonsWithinThreshold = AbandonsWithinThreshold.neutral) -> dict[str, float | None]:
    """Every figure of a period, by name (the API's and the CSV's columns)."""
    return {
        "calls": t.calls,
        "offered": counted_offered(t),
        "answered": t.answered,
        "abandoned": counted_abandoned(t),
        "short_abandoned": t.short_abandoned,
        "timed_out": t.timed_out,
        "service_level": service_level(t, abandons),
        "asa_seconds": asa(t),
        "max_wait_seconds": t.wait_max if t.answered else None,
        "aht_seconds": aht(t),
        "att_seconds": att(t),
        "hold_seconds": average_hold(t),
        "acw_seconds": acw(t),
        "abandon_rate": abandon_rate(t),
        "transfers": t.transfers,
        "fcr": fcr(t),
        "occupancy": occupancy(t),
        "utilisation": utilisation(t),
        "ivr_containment": ivr_containment(t),
        "csat": csat(t),
        "csat_responses": t.csat_count,
    }
