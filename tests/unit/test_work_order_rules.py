"""Work-order rules without a database: SLA clock (a clock the test sets), transitions, routing policy."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pydantic import ValidationError

from workorders.errors import InvalidTransition
from workorders.policy import Policy
from workorders.schemas import NewWorkOrder
from workorders.sla import BREACHED, NEAR, SlaClock
from workorders.states import SlaState, Status, WorkOrderType, check_transition, is_reopen

T0 = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)
H = timedelta(hours=1)


def test_the_clock_is_near_at_the_fraction_and_breached_at_the_due_time() -> None:
    clock = SlaClock.start(T0, 10 * H, 0.8)
    assert clock.state(T0 + 7 * H) == SlaState.ok
    assert clock.state(T0 + 8 * H) == SlaState.near
    assert clock.state(T0 + 10 * H) == SlaState.breached
    assert clock.remaining(T0 + 11 * H) == -H


def test_escalations_fall_due_once_each_and_in_order() -> None:
    clock = SlaClock.start(T0, 10 * H, 0.8)
    assert clock.due_escalations(T0 + 7 * H, False, False) == []
    assert clock.due_escalations(T0 + 8 * H, False, False) == [NEAR]
    assert clock.due_escalations(T0 + 9 * H, True, False) == []
    assert clock.due_escalations(T0 + 10 * H, True, False) == [BREACHED]
    assert clock.due_escalations(T0 + 12 * H, True, True) == []
    # first seen already breached (the job was away): both, near first
    assert clock.due_escalations(T0 + 12 * H, False, False) == [NEAR, BREACHED]


def test_time_waiting_for_the_customer_does_not_count() -> None:
    clock = SlaClock.start(T0, 10 * H, 0.8).stop(T0 + 5 * H)  # waits for the customer for 4 hours
    assert clock.state(T0 + 30 * H) == SlaState.ok  # frozen while stopped
    assert clock.remaining(T0 + 30 * H) == 5 * H
    assert clock.due_escalations(T0 + 30 * H, False, False) == []
    resumed = clock.resume(T0 + 9 * H)
    assert (resumed.near_at, resumed.due_at, resumed.stopped_at) == (T0 + 12 * H, T0 + 14 * H, None)
    assert resumed.due_escalations(T0 + 11 * H, False, False) == []
    assert resumed.due_escalations(T0 + 12 * H, False, False) == [NEAR]
    assert clock.stop(T0 + 6 * H) is clock  # stopping twice keeps the first instant


def test_a_resolved_order_keeps_the_state_it_was_resolved_in() -> None:
    late = SlaClock.start(T0, 2 * H, 0.8).stop(T0 + 3 * H)
    assert late.state(T0 + 100 * H) == SlaState.breached
    early = SlaClock.start(T0, 2 * H, 0.8).stop(T0 + H)
    assert early.state(T0 + 100 * H) == SlaState.ok


@pytest.mark.parametrize(
    ("current", "wanted", "allowed"),
    [
        (Status.open, Status.in_progress, True),
        (Status.in_progress, Status.waiting_customer, True),
        (Status.waiting_customer, Status.resolved, True),
        (Status.resolved, Status.closed, True),
        (Status.resolved, Status.open, True),
        (Status.closed, Status.open, True),
        (Status.open, Status.closed, False),
        (Status.closed, Status.resolved, False),
        (Status.closed, Status.in_progress, False),
        (Status.waiting_customer, Status.open, False),
    ],
)
def test_transitions(current: Status, wanted: Status, allowed: bool) -> None:
    if allowed:
        check_transition(current, wanted)
    else:
        with pytest.raises(InvalidTransition) as e:
            check_transition(current, wanted)
        assert e.value.status_code == 409 and str(wanted) in e.value.message


def test_reopen_is_resolved_or_closed_back_to_open() -> None:
    assert is_reopen(Status.resolved, Status.open) and is_reopen(Status.closed, Status.open)
    assert not is_reopen(Status.in_progress, Status.open)


def test_routing_by_type_and_tier_with_the_claims_green_channel() -> None:
    policy = Policy.load()
    walk_in = policy.route(WorkOrderType.claim, "walk_in")
    key = policy.route(WorkOrderType.claim, "key_account")
    assert (walk_in.department, walk_in.sla, walk_in.level) == ("claims", 72 * H, 0)
    assert (key.department, key.sla, key.level) == ("key_accounts", 24 * H, 1)
    assert policy.route(WorkOrderType.claim, None) == walk_in
    assert policy.route(WorkOrderType.claim, "unknown-tier") == walk_in
    assert policy.route(WorkOrderType.pickup_booking, "vip").sla == 2 * H
    assert {policy.route(t, None).department for t in WorkOrderType} <= set(policy.departments())


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "routing.yaml"
    path.write_text(text)
    return path


BASE = """
levels: [agent, lead]
departments: {cs: Customer service}
types:
  pickup_booking: {department: cs, sla_hours: 4}
  delivery_urging: {department: cs, sla_hours: 4}
  inquiry: {department: cs, sla_hours: 4}
  complaint: {department: cs, sla_hours: 4}
  praise: {department: cs, sla_hours: 4}
"""


@pytest.mark.parametrize(
    ("claim", "message"),
    [
        ("", "types without a rule"),
        ("  claim: {department: nowhere, sla_hours: 4}\n", "unknown departments"),
        ("  claim: {department: cs, sla_hours: 4, tiers: {vip: {level: 5}}}\n", "beyond the last level"),
        ("  claim: {department: cs, sla_hours: 4, tiers: {platinum: {sla_hours: 1}}}\n", "platinum"),
        ("  claim: {department: cs, sla_hours: 0}\n", "greater than 0"),
    ],
)
def test_a_bad_policy_is_refused_at_load(tmp_path: Path, claim: str, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        Policy.load(_write(tmp_path, BASE + claim))
    assert Policy.load(_write(tmp_path, BASE + "  claim: {department: cs, sla_hours: 4}\n")).top_level == 1


def test_a_claim_needs_its_kind_and_only_a_claim_has_one() -> None:
    with pytest.raises(ValidationError, match="claim_kind"):
        NewWorkOrder(type=WorkOrderType.claim, subject="broken")
    with pytest.raises(ValidationError, match="claim_kind"):
        NewWorkOrder.model_validate({"type": "inquiry", "subject": "x", "claim_kind": "loss"})
    assert NewWorkOrder.model_validate({"type": "claim", "subject": "x", "claim_kind": "loss"}).claim_kind == "loss"
