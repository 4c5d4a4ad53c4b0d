"""Evaluations as the API shows them: each with its form version, its sampled call and its marks, loaded in a
few queries for any number of evaluations."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from qa.models import QaCriterion, QaEvaluation, QaForm, QaMark, QaSample
from qa.schemas import EvaluationView, MarkView, Purpose, Status
from qa.services.forms import criteria_of


async def marks_of(s: AsyncSession, evaluation_ids: Sequence[int]) -> dict[int, dict[int, QaMark]]:
    """evaluation id → criterion id → mark."""
    found: dict[int, dict[int, QaMark]] = {i: {} for i in evaluation_ids}
    if evaluation_ids:
        for m in (await s.execute(select(QaMark).where(QaMark.evaluation_id.in_(evaluation_ids)))).scalars():
            found[m.evaluation_id][m.criterion_id] = m
    return found


def _marks(criteria: list[QaCriterion], marks: dict[int, QaMark]) -> list[MarkView]:
    out = []
    for c in criteria:
        m = marks.get(c.id)
        out.append(
            MarkView(
                criterion=c.key,
                label=c.label,
                weight=c.weight,
                max_score=c.max_score,
                critical=c.critical,
                score=m.score if m else None,
                comment=m.comment if m else "",
            )
        )
    return out


async def evaluation_views(s: AsyncSession, evaluations: Sequence[QaEvaluation]) -> list[EvaluationView]:
    if not evaluations:
        return []
    form_ids = {e.form_id for e in evaluations}
    forms = {f.id: f for f in (await s.execute(select(QaForm).where(QaForm.id.in_(form_ids)))).scalars()}
    criteria = await criteria_of(s, form_ids)
    sample_ids = {e.sample_id for e in evaluations}
    samples = {x.id: x for x in (await s.execute(select(QaSample).where(QaSample.id.in_(sample_ids)))).scalars()}
    marks = await marks_of(s, [e.id for e in evaluations])
    views = []
    for e in evaluations:
        form, sample = forms[e.form_id], samples[e.sample_id]
        views.append(
            EvaluationView(
                id=e.id,
                sample_id=e.sample_id,
                recording_id=sample.recording_id,
                call_id=e.call_id,
                agent=e.agent,
                queue=e.queue,
                month=sample.month,
                call_started_at=sample.started_at,
                form_id=form.id,
                form_name=form.name,
                form_version=form.version,
                form_title=form.title,
                reviewer=e.reviewer,
                purpose=Purpose(e.purpose),
                total=e.total,
                raw_total=e.raw_total,
                critical_failures=list(e.critical_failures),
                comment=e.comment,
                status=Status(e.status),
                submitted_at=e.submitted_at,
                acknowledged_at=e.acknowledged_at,
                dispute_reason=e.dispute_reason,
                disputed_at=e.disputed_at,
                resolved_by=e.resolved_by,
                resolution_note=e.resolution_note,
                resolved_at=e.resolved_at,
                total_before_resolution=e.total_before_resolution,
                marks=_marks(criteria[form.id], marks[e.id]),
            )
        )
    return views
