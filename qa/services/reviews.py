"""Reviews of sampled calls: scoring (the call's review, then calibration scorings by other reviewers), the
agent's acknowledgement or dispute, a supervisor's resolution, and the calibration comparison.

Who sees what: admins everything; supervisors the samples and evaluations of the queues they supervise;
an agent only the reviews of their own calls (never the calibration scorings, never a sample before it is
reviewed). Nobody scores their own call.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from sqlalchemy import ColumnElement, and_, delete, false, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.auth import Principal, Role
from hotline.bus import EventBus
from hotline.db import Database
from hotline.deps import visible_to
from hotline.logs import get_logger
from qa.errors import (
    AlreadyScored,
    EvaluationNotFound,
    FormNotFound,
    FormRetired,
    InvalidScores,
    NotYours,
    SampleNotFound,
    WrongStatus,
)
from qa.events import DisputeResolved, EvaluationAcknowledged, EvaluationDisputed, EvaluationSubmitted
from qa.models import QaCriterion, QaEvaluation, QaForm, QaMark, QaSample
from qa.schemas import (
    EvaluationIn,
    EvaluationView,
    MarkIn,
    Outcome,
    Purpose,
    ResolutionIn,
    SampleView,
    Status,
)
from qa.scoring import Result, ScoringError, weighted_total
from qa.services.forms import criteria_of, rules
from qa.services.views import evaluation_views

log = get_logger(__name__)


def _evaluations_visible(me: Principal) -> ColumnElement[bool] | None:
    if me.is_admin:
        return None
    conditions: list[ColumnElement[bool]] = []
    if me.has(Role.agent):
        conditions.append(and_(QaEvaluation.agent == me.username, QaEvaluation.purpose == Purpose.review.value))
    if me.has(Role.supervisor) and me.supervised_queues:
        conditions.append(QaEvaluation.queue.in_(sorted(me.supervised_queues)))
    return or_(*conditions) if conditions else false()


def _sees_evaluation(me: Principal, e: QaEvaluation) -> bool:
    if me.is_admin:
        return True
    if me.has(Role.agent) and e.agent == me.username and e.purpose == Purpose.review.value:
        return True
    return me.has(Role.supervisor) and e.queue is not None and e.queue in me.supervised_queues


def _manages(me: Principal, queue: str | None) -> bool:
    return me.is_admin or (me.has(Role.supervisor) and queue is not None and queue in me.supervised_queues)


def score(criteria: Sequence[QaCriterion], marks: Sequence[MarkIn]) -> Result:
    keys = [m.criterion for m in marks]
    if len(set(keys)) != len(keys):
        raise InvalidScores(f"each criterion is scored once: {keys}")
    try:
        return weighted_total(rules(criteria), {m.criterion: m.score for m in marks})
    except ScoringError as e:
        raise InvalidScores(str(e)) from e


def _store_marks(s: AsyncSession, evaluation_id: int, criteria: Sequence[QaCriterion], marks: Sequence[MarkIn]) -> None:
    by_key = {c.key: c for c in criteria}
    for m in marks:
        s.add(
            QaMark(evaluation_id=evaluation_id, criterion_id=by_key[m.criterion].id, score=m.score, comment=m.comment)
        )


class Reviews:
    def __init__(self, db: Database, bus: EventBus, clock: Callable[[], datetime]) -> None:
        self.db = db
        self.bus = bus
        self.clock = clock

    # samples -------------------------------------------------------------------------------------------

    async def samples(
        self, me: Principal, month: str | None = None, agent: str | None = None, pending: bool = False
    ) -> list[SampleView]:
        is_review = QaEvaluation.purpose == Purpose.review.value
        counts = (
            select(
                QaEvaluation.sample_id,
                func.count().label("n"),
                func.count().filter(is_review).label("reviews"),
                # one review per sample (a unique index): max() only picks it out of the group
                func.max(QaEvaluation.total).filter(is_review).label("total"),
                func.max(QaEvaluation.status).filter(is_review).label("status"),
            )
            .group_by(QaEvaluation.sample_id)
            .subquery()
        )
        stmt = (
            select(
                QaSample,
                func.coalesce(counts.c.n, 0),
                func.coalesce(counts.c.reviews, 0),
                counts.c.total,
                counts.c.status,
            )
            .outerjoin(counts, counts.c.sample_id == QaSample.id)
            .order_by(QaSample.month.desc(), QaSample.agent, QaSample.started_at)
            .limit(2000)
        )
        scope = visible_to(me, None, QaSample.queue)
        if scope is not None:
            stmt = stmt.where(scope)
        if month:
            stmt = stmt.where(QaSample.month == month)
        if agent:
            stmt = stmt.where(QaSample.agent == agent)
        if pending:
            stmt = stmt.where(func.coalesce(counts.c.reviews, 0) == 0)
        async with self.db.session() as s:
            rows = (await s.execute(stmt)).all()
        return [
            SampleView.model_validate(x).model_copy(
                update={
                    "evaluations": n,
                    "reviewed": reviews > 0,
                    "review_total": total,
                    "review_status": Status(status) if status else None,
                }
            )
            for x, n, reviews, total, status in rows
        ]

    async def _sample(self, s: AsyncSession, me: Principal, sample_id: int) -> QaSample:
        sample = await s.get(QaSample, sample_id)
        if sample is None:
            raise SampleNotFound(f"no QA sample {sample_id}")
        if not _manages(me, sample.queue):
            raise NotYours(f"sample {sample_id} is a call of a queue you do not supervise")
        return sample

    async def sample(self, me: Principal, sample_id: int) -> tuple[SampleView, list[EvaluationView]]:
        async with self.db.session() as s:
            sample = await self._sample(s, me, sample_id)
            stmt = select(QaEvaluation).where(QaEvaluation.sample_id == sample_id).order_by(QaEvaluation.id)
            evaluations = await evaluation_views(s, list((await s.execute(stmt)).scalars()))
        review = next((e for e in evaluations if e.purpose is Purpose.review), None)
        view = SampleView.model_validate(sample).model_copy(
            update={
                "evaluations": len(evaluations),
                "reviewed": review is not None,
                "review_total": review.total if review else None,
                "review_status": review.status if review else None,
            }
        )
        return view, evaluations

    # scoring -------------------------------------------------------------------------------------------

    async def submit(self, me: Principal, sample_id: int, body: EvaluationIn) -> EvaluationView:
        now = self.clock()
        async with self.db.session() as s:
            sample = await self._sample(s, me, sample_id)
            if sample.agent == me.username:
                raise NotYours("nobody scores their own call")
            form = await s.get(QaForm, body.form_id)
            if form is None:
                raise FormNotFound(f"no QA form {body.form_id}")
            if form.retired_at is not None:
                raise FormRetired(f"form {form.name} v{form.version} is retired: score on a current version")
            criteria = (await criteria_of(s, [form.id]))[form.id]
            result = score(criteria, body.marks)
            # the first scoring of the call is its review; the lock makes two first scorings take turns
            await s.execute(select(QaSample.id).where(QaSample.id == sample_id).with_for_update())
            reviewed = (
                await s.execute(
                    select(func.count())
                    .select_from(QaEvaluation)
                    .where(QaEvaluation.sample_id == sample_id, QaEvaluation.purpose == Purpose.review.value)
                )
            ).scalar_one()
            purpose = Purpose.calibration if reviewed else Purpose.review
            evaluation = QaEvaluation(
                sample_id=sample.id,
                form_id=form.id,
                agent=sample.agent,
                queue=sample.queue,
                call_id=sample.call_id,
                reviewer=me.username,
                purpose=purpose.value,
                total=result.total,
                raw_total=result.raw_total,
                critical_failures=list(result.critical_failures),
                comment=body.comment,
                status=Status.submitted.value,
                submitted_at=now,
            )
            already = AlreadyScored(f"you already scored call {sample.call_id}")
            mine = select(QaEvaluation.id).where(
                QaEvaluation.sample_id == sample_id, QaEvaluation.reviewer == me.username
            )
            if (await s.execute(mine)).first() is not None:
                raise already
            s.add(evaluation)
            try:
                await s.flush()
            except IntegrityError as e:
                raise already from e
            _store_marks(s, evaluation.id, criteria, body.marks)
            await s.commit()
            view = (await evaluation_views(s, [evaluation]))[0]
        self.bus.publish(
            EvaluationSubmitted(
                evaluation_id=view.id,
                sample_id=view.sample_id,
                call_id=view.call_id,
                agent=view.agent,
                reviewer=view.reviewer,
                purpose=view.purpose.value,
                form=view.form_name,
                form_version=view.form_version,
                total=view.total,
                critical_failures=view.critical_failures,
                at=now,
            )
        )
        log.info("QA evaluation submitted", evaluation=view.id, call=view.call_id, purpose=view.purpose.value)
        return view

    # the agent's side ----------------------------------------------------------------------------------

    async def evaluations(
        self, me: Principal, month: str | None = None, agent: str | None = None, status: Status | None = None
    ) -> list[EvaluationView]:
        stmt = select(QaEvaluation).join(QaSample, QaSample.id == QaEvaluation.sample_id)
        scope = _evaluations_visible(me)
        if scope is not None:
            stmt = stmt.where(scope)
        if month:
            stmt = stmt.where(QaSample.month == month)
        if agent:
            stmt = stmt.where(QaEvaluation.agent == agent)
        if status:
            stmt = stmt.where(QaEvaluation.status == status.value)
        stmt = stmt.order_by(QaEvaluation.submitted_at.desc(), QaEvaluation.id.desc()).limit(1000)
        async with self.db.session() as s:
            return await evaluation_views(s, list((await s.execute(stmt)).scalars()))

    async def _evaluation(self, s: AsyncSession, me: Principal, evaluation_id: int, lock: bool = False) -> QaEvaluation:
        e = await s.get(QaEvaluation, evaluation_id, with_for_update=lock)
        if e is None:
            raise EvaluationNotFound(f"no QA evaluation {evaluation_id}")
        if not _sees_evaluation(me, e):
            raise NotYours(f"evaluation {evaluation_id} is not yours to see")
        return e

    async def evaluation(self, me: Principal, evaluation_id: int) -> EvaluationView:
        async with self.db.session() as s:
            return (await evaluation_views(s, [await self._evaluation(s, me, evaluation_id)]))[0]

    async def _own_review(self, s: AsyncSession, me: Principal, evaluation_id: int) -> QaEvaluation:
        e = await self._evaluation(s, me, evaluation_id, lock=True)
        if e.agent != me.username or e.purpose != Purpose.review.value:
            raise NotYours("only the agent whose call it is acknowledges or disputes its review")
        if e.status != Status.submitted.value:
            raise WrongStatus(f"this review is already {e.status}")
        return e

    async def acknowledge(self, me: Principal, evaluation_id: int) -> EvaluationView:
        now = self.clock()
        async with self.db.session() as s:
            e = await self._own_review(s, me, evaluation_id)
            e.status, e.acknowledged_at = Status.acknowledged.value, now
            await s.commit()
            view = (await evaluation_views(s, [e]))[0]
        self.bus.publish(EvaluationAcknowledged(evaluation_id=e.id, agent=e.agent, at=now))
        return view

    async def dispute(self, me: Principal, evaluation_id: int, reason: str) -> EvaluationView:
        now = self.clock()
        async with self.db.session() as s:
            e = await self._own_review(s, me, evaluation_id)
            e.status, e.dispute_reason, e.disputed_at = Status.disputed.value, reason, now
            await s.commit()
            view = (await evaluation_views(s, [e]))[0]
        self.bus.publish(
            EvaluationDisputed(
                evaluation_id=e.id, agent=e.agent, reviewer=e.reviewer, queue=e.queue, reason=reason, at=now
            )
        )
        log.info("QA review disputed", evaluation=e.id, agent=e.agent)
        return view

    async def resolve(self, me: Principal, evaluation_id: int, body: ResolutionIn) -> EvaluationView:
        now = self.clock()
        async with self.db.session() as s:
            e = await self._evaluation(s, me, evaluation_id, lock=True)
            if not _manages(me, e.queue):
                raise NotYours("a dispute is resolved by a supervisor of the call's queue")
            if e.agent == me.username:
                raise NotYours("nobody resolves a dispute of their own review")
            if e.status != Status.disputed.value:
                raise WrongStatus(f"only a disputed review is resolved; this one is {e.status}")
            before = e.total
            if body.outcome is Outcome.amended and body.marks:
                criteria = (await criteria_of(s, [e.form_id]))[e.form_id]
                result = score(criteria, body.marks)
                await s.execute(delete(QaMark).where(QaMark.evaluation_id == e.id))
                _store_marks(s, e.id, criteria, body.marks)
                e.total, e.raw_total, e.critical_failures = (
                    result.total,
                    result.raw_total,
                    list(result.critical_failures),
                )
            e.status = body.outcome.value
            e.total_before_resolution = before
            e.resolved_by, e.resolution_note, e.resolved_at = me.username, body.note, now
            await s.commit()
            view = (await evaluation_views(s, [e]))[0]
        self.bus.publish(
            DisputeResolved(
                evaluation_id=e.id,
                agent=e.agent,
                by=me.username,
                outcome=body.outcome.value,
                total_before=before,
                total_after=view.total,
                at=now,
            )
        )
        return view
