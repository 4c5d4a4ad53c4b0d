"""Erlang C: how many agents a queue needs for a service level, as pure functions.

The model (A. K. Erlang, 1917): calls arrive at random (Poisson) at ``rate`` per second, each takes an
exponentially distributed handle time of mean ``aht`` seconds, ``n`` agents serve one queue in order of
arrival and nobody abandons. The offered traffic is ``a = rate × aht`` erlangs; with ``n > a``:

- probability that a call waits:  ``C(n, a) = n·B / (n − a·(1 − B))`` where ``B`` is Erlang B, computed by the
  stable recursion ``B(0) = 1, B(k) = a·B(k−1) / (k + a·B(k−1))`` (no factorials, no overflow);
- service level within ``t`` seconds:  ``SL = 1 − C(n, a) · exp(−(n − a) · t / aht)``;
- average speed of answer:  ``ASA = C(n, a) · aht / (n − a)``;
- occupancy:  ``a / n``.

With ``n ≤ a`` the queue grows without bound: the call always waits, the service level is 0.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

MAX_AGENTS = 10_000


def erlang_b(n: int, a: float) -> float:
    """Blocking probability of ``n`` servers offered ``a`` erlangs (Erlang B)."""
    b = 1.0
    for k in range(1, n + 1):
        b = a * b / (k + a * b)
    return b


def erlang_c(n: int, a: float) -> float:
    """Probability that a call has to wait with ``n`` agents and ``a`` erlangs of traffic (1.0 if n ≤ a)."""
    if a <= 0:
        return 0.0
    if n <= a:
        return 1.0
    b = erlang_b(n, a)
    return n * b / (n - a * (1 - b))


def service_level(n: int, a: float, threshold: float, aht: float) -> float:
    """Share of calls answered within ``threshold`` seconds."""
    if a <= 0:
        return 1.0
    if n <= a:
        return 0.0
    return 1.0 - erlang_c(n, a) * math.exp(-(n - a) * threshold / aht)


def asa(n: int, a: float, aht: float) -> float:
    """Average speed of answer in seconds (infinite if n ≤ a)."""
    if a <= 0:
        return 0.0
    if n <= a:
        return math.inf
    return erlang_c(n, a) * aht / (n - a)


@dataclass(frozen=True)
class Staffing:
    agents: int  # the fewest agents meeting the target and the occupancy cap
    traffic: float  # erlangs offered
    service_level: float  # the service level those agents give
    asa: float  # their average speed of answer, seconds
    occupancy: float  # traffic / agents
    wait_probability: float


def agents_needed(
    calls: float, period_seconds: float, aht: float, target: float, threshold: float, max_occupancy: float = 1.0
) -> Staffing:
    """The fewest agents who answer ``target`` of ``calls`` (offered over ``period_seconds`` with mean handle
    time ``aht``) within ``threshold`` seconds while staying at or under ``max_occupancy``."""
    if period_seconds <= 0 or not 0 < target < 1 or not 0 < max_occupancy <= 1 or aht < 0 or calls < 0:
        raise ValueError("period > 0, 0 < target < 1, 0 < max occupancy ≤ 1, aht ≥ 0 and calls ≥ 0 expected")
    a = calls * aht / period_seconds
    if a == 0:
        return Staffing(0, 0.0, 1.0, 0.0, 0.0, 0.0)
    n = max(1, math.floor(a) + 1, math.ceil(a / max_occupancy))
    while n < MAX_AGENTS:
        if service_level(n, a, threshold, aht) >= target and a / n <= max_occupancy:
            break
        n += 1
    return Staffing(
        agents=n,
        traffic=a,
        service_level=service_level(n, a, threshold, aht),
        asa=asa(n, a, aht),
        occupancy=a / n,
        wait_probability=erlang_c(n, a),
    )
