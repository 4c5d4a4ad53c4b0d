from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
import yaml
from pydantic import ValidationError

from crm_bridge.grading import DEFAULT_RULES, GradingRules
from crm_bridge.models import CreditRating, Tier

GOOD = CreditRating.good


@pytest.fixture
def rules() -> GradingRules:
    return GradingRules.load()


@pytest.mark.parametrize(
    ("parcels", "tier"),
    [(0, Tier.walk_in), (1, Tier.walk_in), (3, Tier.walk_in), (4, Tier.regular), (8, Tier.regular),
     (9, Tier.mid), (15, Tier.mid), (16, Tier.vip), (30, Tier.vip), (31, Tier.key_account), (500, Tier.key_account)],
)  # fmt: skip
def test_the_bands_of_the_package_file(rules: GradingRules, parcels: int, tier: Tier) -> None:
    assert rules.grade(parcels, Decimal(0), GOOD)[0] == tier


def test_revenue_lifts_one_band_at_most(rules: GradingRules) -> None:
    tier, reason = rules.grade(2, Decimal("900"), GOOD)  # walk-in by parcels, regular's revenue
    assert tier == Tier.regular and "lifts to regular" in reason
    assert rules.grade(2, Decimal("50000"), GOOD)[0] == Tier.regular  # not to key account at once
    assert rules.grade(2, Decimal("799.99"), GOOD)[0] == Tier.walk_in
    assert rules.grade(31, Decimal("1000000"), GOOD)[0] == Tier.key_account  # nothing above the top


def test_credit_caps_the_tier(rules: GradingRules) -> None:
    tier, reason = rules.grade(40, Decimal(0), CreditRating.bad)
    assert tier == Tier.regular and "bad credit caps at regular" in reason
    assert rules.grade(40, Decimal(0), CreditRating.watch)[0] == Tier.vip
    assert rules.grade(2, Decimal(0), CreditRating.bad)[0] == Tier.walk_in  # a cap never raises


def test_the_window_is_scaled_to_a_month(rules: GradingRules) -> None:
    quarter = rules.model_copy(update={"window_days": 90})
    assert quarter.grade(12, Decimal(0), GOOD)[0] == Tier.regular  # 4 a month (mid over 30 days)
    assert rules.grade(12, Decimal(0), GOOD)[0] == Tier.mid
    assert quarter.grade(27, Decimal(0), GOOD)[0] == Tier.mid
    assert quarter.grade(26, Decimal(0), GOOD)[0] == Tier.regular  # 8.67 a month


def _file(tmp_path: Path, change: dict[str, object]) -> Path:
    data = yaml.safe_load(DEFAULT_RULES.read_text()) | change
    path = tmp_path / "grading.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def test_bands_are_validated_at_load(tmp_path: Path) -> None:
    base = yaml.safe_load(DEFAULT_RULES.read_text())["bands"]
    swapped = [base[0], base[2], base[1], base[3], base[4]]
    with pytest.raises(ValidationError, match="every tier once"):
        GradingRules.load(_file(tmp_path, {"bands": swapped}))
    with pytest.raises(ValidationError, match="every tier once"):
        GradingRules.load(_file(tmp_path, {"bands": base[:4]}))
    falling = [dict(b) for b in base]
    falling[2]["min_parcels"] = 3
    with pytest.raises(ValidationError, match="min_parcels must rise"):
        GradingRules.load(_file(tmp_path, {"bands": falling}))
    starts_high = [dict(b) for b in base]
    starts_high[0]["min_parcels"] = 1
    with pytest.raises(ValidationError, match="start at 0"):
        GradingRules.load(_file(tmp_path, {"bands": starts_high}))
    with pytest.raises(ValidationError):
        GradingRules.load(_file(tmp_path, {"credit_caps": {"bad": "platinum"}}))
    with pytest.raises(ValidationError):
        GradingRules.load(_file(tmp_path, {"window_days": 0}))
    other = [dict(b) for b in base]
    other[1]["min_parcels"] = 2
    assert GradingRules.load(_file(tmp_path, {"bands": other})).grade(2, Decimal(0), GOOD)[0] == Tier.regular
