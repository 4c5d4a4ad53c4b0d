"""The JSON bodies exchanged with an external CRM (docs/EXTERNAL-CRM.md)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, computed_field


class ExternalCustomer(BaseModel):
    """A customer as the CRM answers a look-up: the shape of ``CustomerCard`` with the CRM's own id."""

    model_config = ConfigDict(extra="ignore")

    external_id: str = Field(min_length=1, max_length=64)
    name: str = Field(min_length=1, max_length=200)
    phone: str = Field(description="the primary number, E.164")
    phones: list[str] = []
    tier: str | None = Field(None, description="walk_in, regular, mid, vip or key_account")
    company: str | None = None
    city: str | None = None
    language: str | None = None
    agreement: str | None = None
    home_office: str | None = None
    dedicated_agent: str | None = None
    notes: str | None = None


class InteractionRecord(BaseModel):
    """A finished call's summary, written back once per call."""

    call_id: str
    caller: str | None
    customer_id: int | None = Field(description="the local customer id")
    agent: str | None
    queue: str | None
    intent: str | None
    outcome: str
    started_at: datetime
    answered_at: datetime | None
    ended_at: datetime | None
    summary: str | None = None

    @computed_field  # type: ignore[prop-decorator]
    @property
    def idempotency_key(self) -> str:
        """One call is one interaction, however often it is sent."""
        return f"interaction:{self.call_id}"


class WorkOrderRecord(BaseModel):
    """A work order's state, written back at every change (each change once)."""

    id: int
    type: str
    status: str
    customer_id: int | None
    customer_phone: str | None = None
    waybill: str | None
    subject: str
    changed_at: datetime

    @computed_field  # type: ignore[prop-decorator]
    @property
    def idempotency_key(self) -> str:
        return f"work_order:{self.id}:{self.status}:{self.changed_at.isoformat()}"
