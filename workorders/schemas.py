"""Work-order API shapes (also carried by the WORK_ORDERS interface)."""

from __future__ import annotations

from datetime import datetime
from typing import Self

from pydantic import BaseModel, Field, model_validator

from workorders.states import ClaimKind, SlaState, Status, WorkOrderType

CALL_ID = r"^[\w.-]+$"


class NewWorkOrder(BaseModel):
    type: WorkOrderType
    claim_kind: ClaimKind | None = Field(None, description="claims only (required for them)")
    subject: str = Field(min_length=1, max_length=300)
    notes: str | None = Field(None, max_length=10_000)
    customer_id: int | None = Field(None, ge=1, le=2**31 - 1)
    waybill: str | None = Field(None, min_length=1, max_length=40, pattern=r"^[A-Za-z0-9-]+$")
    call_id: str | None = Field(None, max_length=64, pattern=CALL_ID, description="the call it is opened during")
    assignee: str | None = Field(None, max_length=64, description="supervisors and admins only")

    @model_validator(mode="after")
    def _claim_kind(self) -> Self:
        if (self.type == WorkOrderType.claim) != (self.claim_kind is not None):
            raise ValueError("claim_kind is required for a claim and only for a claim")
        return self


class WorkOrderSummary(BaseModel):
    """One work order in a list or on the screen-pop, with its SLA clock."""

    id: int
    type: str
    claim_kind: str | None = None
    department: str
    subject: str
    waybill: str | None = None
    status: str
    sla_due_at: datetime
    sla_state: SlaState
    escalation_level: int


class WorkOrderRow(WorkOrderSummary):
    """A row of the back-office queue."""

    customer_id: int | None = None
    customer_tier: str | None = None
    assignee: str | None = None
    opened_by: str
    opened_at: datetime
    updated_at: datetime
    sla_seconds_left: float = Field(description="negative once overdue; frozen while the clock stands still")
    sla_running: bool
    escalation_name: str


class HistoryEntry(BaseModel):
    model_config = {"from_attributes": True}

    at: datetime
    actor: str
    action: str
    field: str | None = None
    old: str | None = None
    new: str | None = None


class CallLinkView(BaseModel):
    model_config = {"from_attributes": True}

    call_id: str
    linked_at: datetime
    linked_by: str


class RecordingLinkView(BaseModel):
    model_config = {"from_attributes": True}

    recording_id: int
    linked_at: datetime
    linked_by: str


class RevisitView(BaseModel):
    model_config = {"from_attributes": True}

    id: int
    work_order_id: int
    due_at: datetime
    state: str
    created_at: datetime
    created_by: str


class WorkOrderView(WorkOrderRow):
    """One work order with everything about it."""

    notes: str | None = None
    first_call_id: str | None = None
    first_resolved_at: datetime | None = None
    resolved_at: datetime | None = None
    closed_at: datetime | None = None
    reopen_count: int
    first_contact_resolution: bool
    history: list[HistoryEntry]
    calls: list[CallLinkView]
    recordings: list[RecordingLinkView]
    revisits: list[RevisitView]


class WorkOrderPage(BaseModel):
    items: list[WorkOrderRow]
    total: int
    page: int
    page_size: int


class WorkOrderUpdate(BaseModel):
    status: Status | None = None
    assignee: str | None = Field(None, max_length=64, description="'' unassigns (supervisors and admins only)")
    notes: str | None = Field(None, max_length=10_000)


class CallLink(BaseModel):
    call_id: str = Field(min_length=1, max_length=64, pattern=CALL_ID)
    recording_id: int | None = Field(None, ge=1, le=2**31 - 1, description="the call's recording, as evidence")


class RevisitRequest(BaseModel):
    due_at: datetime | None = Field(None, description="default: the policy's delay after now")


class Catalogue(BaseModel):
    """The vocabulary the pages need: types, claim kinds, statuses, departments, escalation levels."""

    types: list[str]
    claim_kinds: list[str]
    statuses: list[str]
    transitions: dict[str, list[str]]
    departments: dict[str, str]
    levels: list[str]
    near_fraction: float
