"""Work-order errors, each with its HTTP status."""

from __future__ import annotations

from hotline.errors import Conflict, Forbidden, HotlineError, NotFound


class InvalidTransition(Conflict):
    """The status change is not allowed from the current status (409)."""

    code = "invalid_transition"


class WorkOrderNotFound(NotFound):
    code = "work_order_not_found"


class NotYourWorkOrder(Forbidden):
    """An agent changing a work order they neither opened nor are assigned to (403)."""

    code = "not_your_work_order"


class InvalidWorkOrder(HotlineError):
    """A work order that cannot exist as asked: unknown customer, a claim without its kind (422)."""

    status_code = 422
    code = "invalid_work_order"


class RevisitNotAllowed(Conflict):
    """A satisfaction revisit is scheduled only for a resolved (or closed) work order (409)."""

    code = "revisit_not_allowed"
