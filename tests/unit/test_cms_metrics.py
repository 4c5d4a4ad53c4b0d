"""Each figure of cms.metrics against a period computed by hand.

The period: 10 calls entered the queue (threshold 20 s, short abandon < 5 s), 2 more never queued:
- 6 answered after 5, 10, 15, 20, 30, 60 s (4 within 20 s); talk 100 s each but one of 220 s → 720 s; hold
  30 s in total; after-call work 60 s in total; 1 transfer;
- 3 abandoned: after 2 s (short), 10 s (within the threshold) and 40 s (after it);
- 1 timed out of the queue after 300 s;
- the IVR reported on 8 calls and served 2 alone;
- FCR: 5 of the answered calls had a known caller, 1 of whom called again;
- surveys: 5, 4, 2 → 11 / 3;
- agents: 3600 s logged in, 1200 s available, 1800 s handling, 600 s paused.
"""

from __future__ import annotations

import pytest

from cms.metrics import (
    Totals,
    abandon_rate,
    acw,
    aht,
    asa,
    att,
    csat,
    fcr,
    figures,
    ivr_containment,
    occupancy,
    service_level,
    utilisation,
)
from cms.report_config import AbandonsWithinThreshold

PERIOD = Totals(
    calls=12,
    offered=10,
    answered=6,
    abandoned=3,
    short_abandoned=1,
    timed_out=1,
    answered_in_sl=4,
    abandoned_in_sl=1,
    wait_sum=5 + 10 + 15 + 20 + 30 + 60,
    wait_max=60,
    abandon_wait_sum=10 + 40,
    talk_sum=720,
    hold_sum=30,
    acw_sum=60,
    transfers=1,
    ivr_known=8,
    ivr_contained=2,
    fcr_eligible=5,
    fcr_repeated=1,
    csat_sum=11,
    csat_count=3,
    logged_in_seconds=3600,
    available_seconds=1200,
    handling_seconds=1800,
    paused_seconds=600,
)


def test_service_level_counts_abandons_within_the_threshold_as_configured() -> None:
    # counted offered = 10 − 1 short = 9; the abandon after 10 s is within the threshold
    assert service_level(PERIOD, AbandonsWithinThreshold.neutral) == pytest.approx(4 / 8)
    assert service_level(PERIOD, AbandonsWithinThreshold.failed) == pytest.approx(4 / 9)
    assert service_level(PERIOD, AbandonsWithinThreshold.met) == pytest.approx(5 / 9)


def test_times_per_answered_call() -> None:
    assert asa(PERIOD) == pytest.approx(140 / 6)
    assert att(PERIOD) == pytest.approx(120)
    assert acw(PERIOD) == pytest.approx(10)
    assert aht(PERIOD) == pytest.approx((720 + 30 + 60) / 6)  # 135 s = ATT 120 + hold 5 + ACW 10


def test_abandon_rate_leaves_short_abandons_out() -> None:
    assert abandon_rate(PERIOD) == pytest.approx(2 / 9)


def test_fcr_occupancy_utilisation_containment_csat() -> None:
    assert fcr(PERIOD) == pytest.approx(4 / 5)
    assert occupancy(PERIOD) == pytest.approx(1800 / 3000)
    assert utilisation(PERIOD) == pytest.approx(1800 / 3600)
    assert ivr_containment(PERIOD) == pytest.approx(2 / 8)
    assert csat(PERIOD) == pytest.approx(11 / 3)


def test_nothing_measured_is_none_not_zero() -> None:
    empty = figures(Totals())
    for name in ("service_level", "asa_seconds", "aht_seconds", "abandon_rate", "fcr", "occupancy", "csat"):
        assert empty[name] is None, name
    assert empty["offered"] == 0


def test_totals_add_up_and_keep_the_longest_wait() -> None:
    a = Totals(offered=3, answered=2, wait_sum=10, wait_max=8)
    a.add(Totals(offered=1, answered=1, wait_sum=30, wait_max=30))
    a.add(Totals(offered=2, wait_max=4))
    assert (a.offered, a.answered, a.wait_sum, a.wait_max) == (6, 3, 40, 30)


def test_totals_from_a_row_ignore_nulls() -> None:
    t = Totals.of({"answered": 3, "talk_sum": None, "csat_count": 2, "other": "x"})
    assert (t.answered, t.talk_sum, t.csat_count) == (3, 0.0, 2)


def test_figures_names_every_figure_once() -> None:
    f = figures(PERIOD)
    assert f["offered"] == 9 and f["abandoned"] == 2 and f["short_abandoned"] == 1
    assert f["max_wait_seconds"] == 60
