"""Work-order vocabulary and life cycle: types, claim kinds, tiers, statuses and the allowed transitions."""

from __future__ import annotations

import enum

from workorders.errors import InvalidTransition


class WorkOrderType(enum.StrEnum):
    pickup_booking = "pickup_booking"
    delivery_urging = "delivery_urging"
    inquiry = "inquiry"
    complaint = "complaint"
    claim = "claim"
    praise = "praise"


class ClaimKind(enum.StrEnum):
    damage = "damage"
    loss = "loss"
    delay = "delay"
    misroute = "misroute"
    customs = "customs"


class Tier(enum.StrEnum):
    """The customer grades the SLA table knows (the values of crm_bridge's CustomerCard.tier)."""

    walk_in = "walk_in"
    regular = "regular"
    mid = "mid"
    vip = "vip"
    key_account = "key_account"


class Status(enum.StrEnum):
    open = "open"
    in_progress = "in_progress"
    waiting_customer = "waiting_customer"
    resolved = "resolved"
    closed = "closed"


class SlaState(enum.StrEnum):
    ok = "ok"
    near = "near"
    breached = "breached"


# where each status may go; resolved/closed → open is a reopen
TRANSITIONS: dict[Status, frozenset[Status]] = {
    Status.open: frozenset({Status.in_progress, Status.waiting_customer, Status.resolved}),
    Status.in_progress: frozenset({Status.open, Status.waiting_customer, Status.resolved}),
    Status.waiting_customer: frozenset({Status.in_progress, Status.resolved}),
    Status.resolved: frozenset({Status.closed, Status.open}),
    Status.closed: frozenset({Status.open}),
}
ACTIVE = (Status.open, Status.in_progress, Status.waiting_customer)
# the SLA clock runs in these; it stands still while the customer is waited for and once resolved
CLOCK_RUNS = frozenset({Status.open, Status.in_progress})


def check_transition(current: Status, wanted: Status) -> None:
    """Raises InvalidTransition (HTTP 409) unless ``current`` → ``wanted`` is allowed."""
    if wanted not in TRANSITIONS[current]:
        allowed = ", ".join(sorted(TRANSITIONS[current]))
        raise InvalidTransition(f"a work order cannot go from {current} to {wanted} (allowed: {allowed})")


def is_reopen(current: Status, wanted: Status) -> bool:
    return current in (Status.resolved, Status.closed) and wanted == Status.open
