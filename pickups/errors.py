"""Pickup errors, each with its HTTP status."""

from __future__ import annotations

from hotline.errors import Conflict, Forbidden, HotlineError, NotFound


class InvalidPickup(HotlineError):
    """The order cannot be taken as given (a time window, a phone number, a reference's check digit)."""

    status_code = 422
    code = "invalid_pickup"


class PickupNotFound(NotFound):
    code = "pickup_not_found"


class TransitionNotAllowed(Conflict):
    """The pickup's state does not allow that change (cancelling one already picked up, …)."""

    code = "transition_not_allowed"


class NotYourPickup(Forbidden):
    """Agents may cancel only the pickups they booked; every other change is a supervisor's."""

    code = "not_your_pickup"
