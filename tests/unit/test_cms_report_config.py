"""The reports' settings file and the cutting of a period into whole local days and partial edges."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from cms.report_config import AbandonsWithinThreshold, ReportConfig
from cms.reporting import Period

SHANGHAI = ZoneInfo("Asia/Shanghai")


def test_the_shipped_file_loads_with_per_queue_thresholds() -> None:
    c = ReportConfig.load()
    assert c.threshold("support") == 20
    assert c.threshold("complaints") == 30
    assert c.service_level("key_accounts").service_level_target == 0.9
    assert c.threshold(None) == c.defaults.service_level_seconds
    assert c.abandons_within_threshold is AbandonsWithinThreshold.neutral


def test_bad_settings_are_refused(tmp_path: Path) -> None:
    (tmp_path / "r.yaml").write_text("timezone: Mars/Olympus\n")
    with pytest.raises(ValidationError):
        ReportConfig.load(tmp_path / "r.yaml")
    (tmp_path / "r.yaml").write_text("abandons_within_threshold: maybe\n")
    with pytest.raises(ValidationError):
        ReportConfig.load(tmp_path / "r.yaml")


def test_a_period_of_whole_local_days_reads_only_daily_rows() -> None:
    p = Period(datetime(2026, 11, 1, tzinfo=SHANGHAI), datetime(2026, 12, 1, tzinfo=SHANGHAI), SHANGHAI).params()
    assert (p["day_from"], p["day_until"]) == (date(2026, 11, 1), date(2026, 12, 1))
    assert p["whole_from"] == p["since"] and p["whole_until"] == p["until"]  # no edge rows


def test_a_period_cut_mid_day_reads_its_edges_from_intervals() -> None:
    # 2026-11-24 01:00 UTC = 09:00 in Shanghai, until 2026-11-26 12:00 UTC = 20:00 there
    p = Period(datetime(2026, 11, 24, 1, tzinfo=UTC), datetime(2026, 11, 26, 12, tzinfo=UTC), SHANGHAI).params()
    assert (p["day_from"], p["day_until"]) == (date(2026, 11, 25), date(2026, 11, 26))
    assert p["whole_from"] == datetime(2026, 11, 25, tzinfo=SHANGHAI)
    assert p["whole_until"] == datetime(2026, 11, 26, tzinfo=SHANGHAI)


def test_a_period_inside_one_day_has_no_whole_day() -> None:
    p = Period(datetime(2026, 11, 24, 1, tzinfo=UTC), datetime(2026, 11, 24, 3, tzinfo=UTC), SHANGHAI).params()
    assert p["day_from"] == p["day_until"]
    assert p["whole_from"] == p["whole_until"]
