"""QA's REST API. Forms: everyone signed in reads them, admins publish and retire. Samples: supervisors
(their queues) and admins list, draw and score them, and compare reviewers on a call. Evaluations: an agent
reads the reviews of their own calls and acknowledges or disputes them; supervisors and admins read their
queues' evaluations and resolve disputes."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query
from fastapi import Path as PathParam
from pydantic import BaseModel

from hotline.auth import Access, Principal, Role
from qa.errors import InvalidMonth
from qa.sampling import Month
from qa.schemas import (
    MONTH_PATTERN,
    Calibration,
    DisputeIn,
    EvaluationIn,
    EvaluationView,
    FormIn,
    FormView,
    ResolutionIn,
    SampleRequest,
    SampleRun,
    SampleView,
    Status,
)
from qa.services.calibration import compare
from qa.services.forms import FormBook
from qa.services.reviews import Reviews
from qa.services.sampler import Sampler


def _id() -> Any:
    """A path id (a fresh parameter each time: FastAPI binds a parameter object to the first name it serves)."""
    return PathParam(ge=1, le=2**31 - 1)


class SampleDetail(BaseModel):
    sample: SampleView
    evaluations: list[EvaluationView]


def build_router(forms: FormBook, sampler: Sampler, reviews: Reviews, access: Access) -> APIRouter:
    router = APIRouter(prefix="/api/qa", tags=["quality assurance"])
    readers = Depends(access.requires(Role.agent, Role.supervisor))
    supervisors = Depends(access.requires(Role.supervisor))
    agents = Depends(access.requires(Role.agent))
    admins = Depends(access.requires(Role.admin))

    @router.get("/forms", response_model=list[FormView], summary="The scoring forms in use (every version)")
    async def list_forms(
        retired: bool = Query(False, description="retired versions too"), _: Principal = readers
    ) -> list[FormView]:
        return await forms.list(include_retired=retired)

    @router.post("/forms", response_model=FormView, status_code=201, summary="Publish a form or its next version")
    async def publish_form(body: FormIn, me: Principal = admins) -> FormView:
        return await forms.publish(body, me.username)

    @router.get("/forms/{form_id}", response_model=FormView, summary="One form version with its criteria")
    async def get_form(form_id: int = _id(), _: Principal = readers) -> FormView:
        return await forms.get(form_id)

    @router.post("/forms/{form_id}/retire", response_model=FormView, summary="No new scoring on this version")
    async def retire_form(form_id: int = _id(), _: Principal = admins) -> FormView:
        return await forms.retire(form_id)

    @router.get("/samples", response_model=list[SampleView], summary="Sampled calls (your queues'), by month")
    async def list_samples(
        month: str | None = Query(None, pattern=MONTH_PATTERN),
        agent: str | None = Query(None, max_length=16),
        pending: bool = Query(False, description="only the calls not reviewed yet"),
        me: Principal = supervisors,
    ) -> list[SampleView]:
        return await reviews.samples(me, month, agent, pending)

    @router.post("/samples", response_model=SampleRun, summary="Draw a month's sample now (adds only what is missing)")
    async def draw(body: SampleRequest, me: Principal = supervisors) -> SampleRun:
        try:
            month = Month.parse(body.month)
        except ValueError as e:
            raise InvalidMonth(str(e)) from e
        return await sampler.draw(month, body.agent, me.username)

    @router.get("/samples/{sample_id}", response_model=SampleDetail, summary="A sampled call and its scorings")
    async def get_sample(sample_id: int = _id(), me: Principal = supervisors) -> SampleDetail:
        sample, evaluations = await reviews.sample(me, sample_id)
        return SampleDetail(sample=sample, evaluations=evaluations)

    @router.post(
        "/samples/{sample_id}/evaluations",
        response_model=EvaluationView,
        status_code=201,
        summary="Score the call: the first scoring is its review, later ones by others calibrate",
    )
    async def submit(body: EvaluationIn, sample_id: int = _id(), me: Principal = supervisors) -> EvaluationView:
        return await reviews.submit(me, sample_id, body)

    @router.get(
        "/samples/{sample_id}/calibration",
        response_model=Calibration,
        summary="Reviewers side by side on one call: totals and the spread per criterion",
    )
    async def calibration(sample_id: int = _id(), me: Principal = supervisors) -> Calibration:
        sample, evaluations = await reviews.sample(me, sample_id)
        return compare(sample, evaluations)

    @router.get(
        "/evaluations",
        response_model=list[EvaluationView],
        summary="Reviews: an agent's own calls', a supervisor's queues', all for admins",
    )
    async def list_evaluations(
        month: str | None = Query(None, pattern=MONTH_PATTERN),
        agent: str | None = Query(None, max_length=16),
        status: Status | None = Query(None),
        me: Principal = readers,
    ) -> list[EvaluationView]:
        return await reviews.evaluations(me, month, agent, status)

    @router.get("/evaluations/{evaluation_id}", response_model=EvaluationView, summary="One evaluation")
    async def get_evaluation(evaluation_id: int = _id(), me: Principal = readers) -> EvaluationView:
        return await reviews.evaluation(me, evaluation_id)

    @router.post(
        "/evaluations/{evaluation_id}/acknowledge",
        response_model=EvaluationView,
        summary="The agent accepts the review of their call",
    )
    async def acknowledge(evaluation_id: int = _id(), me: Principal = agents) -> EvaluationView:
        return await reviews.acknowledge(me, evaluation_id)

    @router.post(
        "/evaluations/{evaluation_id}/dispute",
        response_model=EvaluationView,
        summary="The agent disputes the review of their call, with a reason",
    )
    async def dispute(body: DisputeIn, evaluation_id: int = _id(), me: Principal = agents) -> EvaluationView:
        return await reviews.dispute(me, evaluation_id, body.reason)

    @router.post(
        "/evaluations/{evaluation_id}/resolve",
        response_model=EvaluationView,
        summary="A supervisor resolves a dispute: upheld, or amended with new marks",
    )
    async def resolve(body: ResolutionIn, evaluation_id: int = _id(), me: Principal = supervisors) -> EvaluationView:
        return await reviews.resolve(me, evaluation_id, body)

    return router
