"""What the customers side tells the rest of the system (its public contract)."""

from __future__ import annotations

from datetime import datetime

from hotline.events import Event


class CustomerRegraded(Event):
    """A customer's tier changed: by grading (``by = "schedule"`` or the username who asked) or by hand
    (``manual``: a supervisor's override, kept until lifted)."""

    customer_id: int
    old_tier: str | None
    new_tier: str
    reason: str
    by: str
    manual: bool = False
    at: datetime
