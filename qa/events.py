"""What quality assurance tells the rest of the system (its public contract)."""

from __future__ import annotations

from datetime import datetime

from hotline.events import Event


class QaFormPublished(Event):
    """An admin published a scoring form (a new form, or a new version of one)."""

    form_id: int
    name: str
    version: int
    by: str
    at: datetime


class CallsSampled(Event):
    """Recorded calls were drawn for review in an agent's month (only the calls added by this draw)."""

    month: str
    agent: str
    recording_ids: list[int]
    by: str
    at: datetime


class EvaluationSubmitted(Event):
    """A reviewer scored a sampled call: the call's review, or a calibration scoring of it."""

    evaluation_id: int
    sample_id: int
    call_id: str
    agent: str
    reviewer: str
    purpose: str  # review | calibration
    form: str
    form_version: int
    total: float
    critical_failures: list[str]
    at: datetime


class EvaluationAcknowledged(Event):
    """The agent read their review and accepted it."""

    evaluation_id: int
    agent: str
    at: datetime


class EvaluationDisputed(Event):
    """The agent disputed their review, with a reason, for a supervisor to resolve."""

    evaluation_id: int
    agent: str
    reviewer: str
    queue: str | None
    reason: str
    at: datetime


class DisputeResolved(Event):
    """A supervisor resolved a disputed review: upheld as scored, or amended (scored again)."""

    evaluation_id: int
    agent: str
    by: str
    outcome: str  # upheld | amended
    total_before: float
    total_after: float
    at: datetime
