"""QA errors, each with its HTTP status."""

from __future__ import annotations

from hotline.errors import Conflict, Forbidden, HotlineError, NotFound


class FormNotFound(NotFound):
    code = "qa_form_not_found"


class SampleNotFound(NotFound):
    code = "qa_sample_not_found"


class EvaluationNotFound(NotFound):
    code = "qa_evaluation_not_found"


class InvalidForm(HotlineError):
    """A form that cannot be used: duplicate criteria, no weight to score on (422)."""

    status_code = 422
    code = "invalid_qa_form"


class InvalidScores(HotlineError):
    """Marks that do not fit the form: unscored criteria, out of range, not applicable where it must (422)."""

    status_code = 422
    code = "invalid_qa_scores"


class FormRetired(Conflict):
    code = "qa_form_retired"


class AlreadyScored(Conflict):
    """This reviewer already scored this call (409)."""

    code = "qa_already_scored"


class WrongStatus(Conflict):
    """The evaluation is not in a state that allows this (acknowledging a disputed review, …) (409)."""

    code = "qa_wrong_status"


class NotYours(Forbidden):
    """An agent acting on another agent's review, or a supervisor on another queue's call (403)."""

    code = "qa_not_yours"


class InvalidMonth(HotlineError):
    status_code = 422
    code = "invalid_month"
