"""Erlang C against a computation by hand (the factorial form) and the textbook example:
100 calls in 30 minutes, AHT 180 s → 10 erlangs; 80 % within 20 s needs 14 agents (13 give 79.6 %)."""

from __future__ import annotations

import math

import pytest

from cms.erlang import agents_needed, asa, erlang_c, service_level


def by_hand_wait_probability(n: int, a: float) -> float:
    """C(n, a) = (aⁿ/n! · n/(n−a)) / (Σₖ₌₀ⁿ⁻¹ aᵏ/k! + aⁿ/n! · n/(n−a))."""
    top = a**n / math.factorial(n) * n / (n - a)
    return top / (sum(a**k / math.factorial(k) for k in range(n)) + top)


@pytest.mark.parametrize("n", [11, 12, 13, 14, 15, 20])
def test_erlang_c_equals_the_factorial_form(n: int) -> None:
    assert erlang_c(n, 10.0) == pytest.approx(by_hand_wait_probability(n, 10.0), rel=1e-12)


def test_the_textbook_example() -> None:
    a = 100 * 180 / 1800  # 10 erlangs
    # 11 agents: C = 27557.3 / (12842.3 + 27557.3) = 0.6821; SL = 1 − 0.6821·e^(−1·20/180) = 0.3897
    assert erlang_c(11, a) == pytest.approx(0.6821, abs=1e-4)
    assert service_level(11, a, 20, 180) == pytest.approx(0.3897, abs=1e-4)
    # 13 agents: C = 0.2853, SL = 1 − 0.2853·e^(−3·20/180) = 0.7956 (short of 80 %)
    assert service_level(13, a, 20, 180) == pytest.approx(0.7956, abs=1e-4)
    # 14 agents: C = 0.1741, SL = 1 − 0.1741·e^(−4·20/180) = 0.8884; ASA = 0.1741·180/4 = 7.8 s
    assert service_level(14, a, 20, 180) == pytest.approx(0.8884, abs=1e-4)
    assert asa(14, a, 180) == pytest.approx(0.1741 * 180 / 4, abs=0.01)
    need = agents_needed(100, 1800, 180, target=0.8, threshold=20)
    assert need.agents == 14
    assert need.traffic == pytest.approx(10.0)
    assert need.occupancy == pytest.approx(10 / 14)


def test_the_occupancy_cap_can_ask_for_more_agents() -> None:
    # 10 erlangs at 80/20 needs 14 (occupancy 71 %); a cap of 65 % needs ceil(10 / 0.65) = 16
    assert agents_needed(100, 1800, 180, target=0.8, threshold=20, max_occupancy=0.65).agents == 16


def test_a_stricter_target_never_needs_fewer_agents() -> None:
    counts = [agents_needed(100, 1800, 180, target=t, threshold=20).agents for t in (0.5, 0.8, 0.9, 0.95)]
    assert counts == sorted(counts)
    assert counts[0] < counts[-1]


def test_no_traffic_needs_nobody_and_overload_is_zero_service() -> None:
    assert agents_needed(0, 900, 180, target=0.8, threshold=20).agents == 0
    assert service_level(10, 10.0, 20, 180) == 0.0
    assert erlang_c(9, 10.0) == 1.0


def test_bad_inputs_are_refused() -> None:
    with pytest.raises(ValueError):
        agents_needed(10, 0, 180, target=0.8, threshold=20)
    with pytest.raises(ValueError):
        agents_needed(10, 900, 180, target=1.0, threshold=20)
