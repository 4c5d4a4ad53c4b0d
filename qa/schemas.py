"""QA's API shapes."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Self

from pydantic import BaseModel, Field, model_validator

Key = str
KEY_PATTERN = r"^[a-z][a-z0-9_]{0,39}$"
MONTH_PATTERN = r"^\d{4}-(0[1-9]|1[0-2])$"


class Purpose(StrEnum):
    review = "review"
    calibration = "calibration"


class Status(StrEnum):
    submitted = "submitted"
    acknowledged = "acknowledged"
    disputed = "disputed"
    upheld = "upheld"
    amended = "amended"


class Outcome(StrEnum):
    upheld = "upheld"
    amended = "amended"


class CriterionIn(BaseModel):
    key: Key = Field(pattern=KEY_PATTERN)
    label: str = Field(min_length=1, max_length=300)
    guidance: str = Field(default="", max_length=2000)
    weight: float = Field(ge=0, le=1000)
    max_score: int = Field(default=5, ge=1, le=100)
    critical: bool = False  # scored 0, it makes the whole form worth 0
    allow_na: bool = False


class FormIn(BaseModel):
    """A form to publish: a new name starts at version 1, an existing name gets its next version."""

    name: str = Field(pattern=r"^[a-z][a-z0-9_-]{0,59}$")
    title: str = Field(min_length=1, max_length=160)
    description: str = Field(default="", max_length=4000)
    criteria: list[CriterionIn] = Field(min_length=1, max_length=60)

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        keys = [c.key for c in self.criteria]
        if len(set(keys)) != len(keys):
            raise ValueError(f"criterion keys must be distinct: {keys}")
        if not any(c.weight > 0 and not c.allow_na for c in self.criteria):
            raise ValueError("at least one criterion must carry weight and apply to every call")
        return self


class CriterionView(CriterionIn):
    model_config = {"from_attributes": True}

    id: int
    position: int


class FormView(BaseModel):
    id: int
    name: str
    version: int
    title: str
    description: str
    created_by: str
    created_at: datetime
    retired_at: datetime | None
    criteria: list[CriterionView]


class SampleRequest(BaseModel):
    month: str = Field(pattern=MONTH_PATTERN, description="YYYY-MM in the QA time zone")
    agent: str | None = Field(
        default=None, max_length=16, description="one agent only (all agents with calls otherwise)"
    )


class SampleView(BaseModel):
    model_config = {"from_attributes": True}

    id: int
    month: str
    agent: str
    recording_id: int
    call_id: str
    queue: str | None
    customer_id: int | None
    started_at: datetime
    duration_seconds: float
    drawn_at: datetime
    drawn_by: str
    reviewed: bool = False
    evaluations: int = 0
    review_total: float | None = None  # the review's weighted total (after any amendment), once reviewed
    review_status: Status | None = None


class SampleRun(BaseModel):
    month: str
    per_agent: int
    agents: int  # agents with recorded calls in the month
    added: list[SampleView]


class MarkIn(BaseModel):
    criterion: Key = Field(pattern=KEY_PATTERN)
    score: int | None = Field(default=None, ge=0, le=100, description="null: not applicable to this call")
    comment: str = Field(default="", max_length=500)


class EvaluationIn(BaseModel):
    form_id: int = Field(ge=1, le=2**31 - 1)
    marks: list[MarkIn] = Field(min_length=1, max_length=60)
    comment: str = Field(default="", max_length=4000)


class DisputeIn(BaseModel):
    reason: str = Field(min_length=3, max_length=2000)


class ResolutionIn(BaseModel):
    outcome: Outcome
    note: str = Field(min_length=1, max_length=2000)
    marks: list[MarkIn] | None = Field(default=None, max_length=60, description="the new marks when amended")

    @model_validator(mode="after")
    def _marks_when_amended(self) -> Self:
        if self.outcome is Outcome.amended and not self.marks:
            raise ValueError("an amended review needs its new marks")
        if self.outcome is Outcome.upheld and self.marks:
            raise ValueError("an upheld review keeps its marks: send none")
        return self


class MarkView(BaseModel):
    criterion: Key
    label: str
    weight: float
    max_score: int
    critical: bool
    score: int | None
    comment: str


class EvaluationView(BaseModel):
    id: int
    sample_id: int
    recording_id: int
    call_id: str
    agent: str
    queue: str | None
    month: str
    call_started_at: datetime
    form_id: int
    form_name: str
    form_version: int
    form_title: str
    reviewer: str
    purpose: Purpose
    total: float
    raw_total: float
    critical_failures: list[str]
    comment: str
    status: Status
    submitted_at: datetime
    acknowledged_at: datetime | None
    dispute_reason: str | None
    disputed_at: datetime | None
    resolved_by: str | None
    resolution_note: str | None
    resolved_at: datetime | None
    total_before_resolution: float | None
    marks: list[MarkView]


class CriterionSpread(BaseModel):
    criterion: Key
    label: str
    max_score: int
    scores: dict[str, int | None]  # reviewer → score (None: not applicable)
    min: int | None
    max: int | None
    spread: int | None  # max − min over the reviewers who scored it


class Calibration(BaseModel):
    """Several reviewers on one call, per form version: their totals side by side, the spread per criterion."""

    sample: SampleView
    form_id: int
    form_name: str
    form_version: int
    reviewers: list[str]
    totals: dict[str, float]
    total_spread: float | None
    criteria: list[CriterionSpread]
    other_form_versions: int  # scorings on other versions of the form, left out of this comparison


class AgentMonth(BaseModel):
    """An agent's month in QA: calls sampled, reviewed, the average review total, disputes still open."""

    agent: str
    month: str
    sampled: int
    reviewed: int
    average: float | None
    disputed: int
