"""The weighting maths of QA forms and the calibration spread, against hand-computed values."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from qa.demo import DEMO_FORM
from qa.schemas import EvaluationView, MarkView, Purpose, SampleView, Status
from qa.scoring import CriterionRule, ScoringError, weighted_total
from qa.services.calibration import compare

FORM = [
    CriterionRule("greeting", weight=10, max_score=5),
    CriterionRule("pickup", weight=30, max_score=5, allow_na=True),
    CriterionRule("courtesy", weight=20, max_score=4),
    CriterionRule("truthful", weight=0, max_score=1, critical=True),
]


def test_weighted_total_by_hand() -> None:
    # (10·4/5 + 30·3/5 + 20·2/4) / (10+30+20) = (8 + 18 + 10) / 60 = 0.6
    r = weighted_total(FORM, {"greeting": 4, "pickup": 3, "courtesy": 2, "truthful": 1})
    assert r.total == 60.0 and r.raw_total == 60.0 and r.critical_failures == ()


def test_not_applicable_leaves_both_sums() -> None:
    # (10·5/5 + 20·1/4) / (10+20) = 15/30
    r = weighted_total(FORM, {"greeting": 5, "pickup": None, "courtesy": 1, "truthful": 1})
    assert r.total == 50.0


def test_rounding_to_two_decimals() -> None:
    # (10·1/5 + 30·0 + 20·0) / 60 = 2/60 = 3.333…
    assert weighted_total(FORM, {"greeting": 1, "pickup": 0, "courtesy": 0, "truthful": 1}).total == 3.33


def test_a_critical_failure_zeroes_the_form_and_keeps_the_raw_total() -> None:
    r = weighted_total(FORM, {"greeting": 5, "pickup": 5, "courtesy": 4, "truthful": 0})
    assert r.total == 0.0 and r.raw_total == 100.0 and r.critical_failures == ("truthful",)


@pytest.mark.parametrize(
    ("marks", "message"),
    [
        ({"greeting": 5, "pickup": 5, "courtesy": 4}, "left unscored"),
        ({"greeting": 6, "pickup": 5, "courtesy": 4, "truthful": 1}, "from 0 to 5"),
        ({"greeting": None, "pickup": 5, "courtesy": 4, "truthful": 1}, "applies to every call"),
        ({"greeting": 1, "pickup": 5, "courtesy": 4, "truthful": 1, "extra": 1}, "not criteria"),
    ],
)
def test_marks_that_do_not_fit_the_form_are_refused(marks: dict[str, int | None], message: str) -> None:
    with pytest.raises(ScoringError, match=message):
        weighted_total(FORM, marks)


def test_the_demo_form_weights_sum_to_100_with_one_critical_gate() -> None:
    assert sum(c.weight for c in DEMO_FORM.criteria) == 100
    assert [c.key for c in DEMO_FORM.criteria if c.critical] == ["feedback_recorded"]
    rules = [CriterionRule(c.key, c.weight, c.max_score, c.critical, c.allow_na) for c in DEMO_FORM.criteria]
    perfect = {c.key: c.max_score for c in DEMO_FORM.criteria}
    assert weighted_total(rules, perfect).total == 100.0
    assert weighted_total(rules, perfect | {"feedback_recorded": 0}).total == 0.0


AT = datetime(2026, 11, 3, 9, tzinfo=UTC)


def _evaluation(i: int, reviewer: str, total: float, scores: list[int | None], form_id: int = 1) -> EvaluationView:
    labels = ["greeting", "pickup"]
    return EvaluationView(
        id=i,
        sample_id=1,
        recording_id=1,
        call_id="c1",
        agent="1001",
        queue="support",
        month="2026-11",
        call_started_at=AT,
        form_id=form_id,
        form_name="f",
        form_version=form_id,
        form_title="F",
        reviewer=reviewer,
        purpose=Purpose.review if i == 1 else Purpose.calibration,
        total=total,
        raw_total=total,
        critical_failures=[],
        comment="",
        status=Status.submitted,
        submitted_at=AT,
        acknowledged_at=None,
        dispute_reason=None,
        disputed_at=None,
        resolved_by=None,
        resolution_note=None,
        resolved_at=None,
        total_before_resolution=None,
        marks=[
            MarkView(criterion=k, label=k, weight=1, max_score=5, critical=False, score=s, comment="")
            for k, s in zip(labels, scores, strict=True)
        ],
    )


def test_calibration_sets_reviewers_side_by_side_with_the_spread_per_criterion() -> None:
    sample = SampleView(
        id=1,
        month="2026-11",
        agent="1001",
        recording_id=1,
        call_id="c1",
        queue="support",
        customer_id=None,
        started_at=AT,
        duration_seconds=60,
        drawn_at=AT,
        drawn_by="system",
    )
    result = compare(
        sample,
        [
            _evaluation(1, "sup-a", 80.0, [4, 4]),
            _evaluation(2, "sup-b", 55.5, [1, None]),
            _evaluation(3, "sup-c", 70.0, [3, 5]),
            _evaluation(4, "sup-d", 10.0, [0, 0], form_id=2),  # another form version: not comparable
        ],
    )
    assert result.reviewers == ["sup-a", "sup-b", "sup-c"]
    assert result.totals == {"sup-a": 80.0, "sup-b": 55.5, "sup-c": 70.0}
    assert result.total_spread == 24.5
    assert [(c.criterion, c.min, c.max, c.spread) for c in result.criteria] == [
        ("greeting", 1, 4, 3),
        ("pickup", 4, 5, 1),
    ]
    assert result.criteria[1].scores == {"sup-a": 4, "sup-b": None, "sup-c": 5}
    assert result.other_form_versions == 1
