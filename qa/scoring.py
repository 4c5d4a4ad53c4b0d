"""The weighting maths of a scoring form, with no database in it.

Each criterion is scored from 0 to its ``max_score`` (or marked not applicable when it allows it). The
weighted total is a percentage: the sum of weight × score / max over the applicable criteria, divided by the
sum of their weights, × 100, rounded to two decimals. A not-applicable criterion leaves both sums, so a call
without a pickup is not marked down for the pickup's details. A critical criterion scored 0 is a critical
failure: the whole form is worth 0, whatever the other criteria earned (the call misinformed the customer,
say); its weight may be 0, a gate that counts for nothing when passed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass


class ScoringError(ValueError):
    """Marks that do not fit the form."""


@dataclass(frozen=True)
class CriterionRule:
    key: str
    weight: float
    max_score: int
    critical: bool = False
    allow_na: bool = False


@dataclass(frozen=True)
class Result:
    total: float  # 0–100
    raw_total: float  # before any critical failure zeroed it
    critical_failures: tuple[str, ...]


def weighted_total(criteria: Sequence[CriterionRule], marks: Mapping[str, int | None]) -> Result:
    """The form's total for ``marks`` (criterion key → score, None = not applicable); every criterion of
    the form must be marked, and nothing else."""
    keys = {c.key for c in criteria}
    unknown = sorted(set(marks) - keys)
    if unknown:
        raise ScoringError(f"not criteria of this form: {unknown}")
    missing = [c.key for c in criteria if c.key not in marks]
    if missing:
        raise ScoringError(f"criteria left unscored: {missing}")
    earned = possible = 0.0
    failures: list[str] = []
    for c in criteria:
        score = marks[c.key]
        if score is None:
            if not c.allow_na:
                raise ScoringError(f"{c.key} applies to every call: score it from 0 to {c.max_score}")
            continue
        if not 0 <= score <= c.max_score:
            raise ScoringError(f"{c.key} is scored from 0 to {c.max_score}, not {score}")
        earned += c.weight * score / c.max_score
        possible += c.weight
        if c.critical and score == 0:
            failures.append(c.key)
    if possible <= 0:
        raise ScoringError("no weighted criterion applies to this call: nothing to score")
    raw = round(100 * earned / possible, 2)
    return Result(total=0.0 if failures else raw, raw_total=raw, critical_failures=tuple(failures))
