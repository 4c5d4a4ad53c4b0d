"""Calibration: several reviewers score the same call; their totals side by side and, per criterion, the
spread (highest − lowest score among the reviewers who found it applicable). Only scorings on one form
version are comparable: the review's version (or the first scoring's), the others are counted apart."""

from __future__ import annotations

from collections.abc import Sequence

from qa.schemas import Calibration, CriterionSpread, EvaluationView, SampleView


def compare(sample: SampleView, evaluations: Sequence[EvaluationView]) -> Calibration:
    if not evaluations:
        return Calibration(
            sample=sample,
            form_id=0,
            form_name="",
            form_version=0,
            reviewers=[],
            totals={},
            total_spread=None,
            criteria=[],
            other_form_versions=0,
        )
    anchor = next((e for e in evaluations if e.purpose.value == "review"), evaluations[0])
    same = [e for e in evaluations if e.form_id == anchor.form_id]
    totals = {e.reviewer: e.total for e in same}
    criteria = []
    for i, mark in enumerate(anchor.marks):
        scores = {e.reviewer: e.marks[i].score for e in same}
        scored = [v for v in scores.values() if v is not None]
        low, high = (min(scored), max(scored)) if scored else (None, None)
        criteria.append(
            CriterionSpread(
                criterion=mark.criterion,
                label=mark.label,
                max_score=mark.max_score,
                scores=scores,
                min=low,
                max=high,
                spread=None if low is None or high is None else high - low,
            )
        )
    return Calibration(
        sample=sample,
        form_id=anchor.form_id,
        form_name=anchor.form_name,
        form_version=anchor.form_version,
        reviewers=[e.reviewer for e in same],
        totals=totals,
        total_spread=round(max(totals.values()) - min(totals.values()), 2),
        criteria=criteria,
        other_form_versions=len(evaluations) - len(same),
    )
