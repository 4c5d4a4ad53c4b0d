"""Which state may follow which, and who may make the change.

    booked ──▶ assigned ──▶ picked_up
      │           ├──────▶ failed ──▶ booked (a rebooking, with a new window)
      └──────────►└──────▶ cancelled

A failed pickup is booked again (the same reference, a new ready/close window, at most ``max_rebooks``
times), then assigned as at booking. picked_up and cancelled are final. Agents may cancel the pickups
they booked themselves; every other change is a supervisor's or an admin's.
"""

from __future__ import annotations

from pickups.errors import NotYourPickup, TransitionNotAllowed
from pickups.models import PickupState

S = PickupState
ALLOWED: dict[PickupState, frozenset[PickupState]] = {
    S.booked: frozenset({S.assigned, S.cancelled}),
    S.assigned: frozenset({S.picked_up, S.failed, S.cancelled}),
    S.failed: frozenset({S.booked}),
    S.picked_up: frozenset(),
    S.cancelled: frozenset(),
}


def check_transition(reference: str, current: PickupState, wanted: PickupState) -> None:
    if wanted not in ALLOWED[current]:
        allowed = ", ".join(sorted(ALLOWED[current])) or "none: it is final"
        raise TransitionNotAllowed(f"pickup {reference} is {current}: it cannot become {wanted} (allowed: {allowed})")


def check_permission(reference: str, wanted: PickupState, by: str, booked_by: str, manager: bool) -> None:
    if manager:
        return
    if wanted != S.cancelled:
        raise NotYourPickup(f"only a supervisor may mark pickup {reference} {wanted}")
    if booked_by != by:
        raise NotYourPickup(f"pickup {reference} was booked by {booked_by}: only they or a supervisor may cancel it")
