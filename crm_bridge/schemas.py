"""The customers' API shapes, and the card other packages receive (``CustomerCard``)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from pydantic import BaseModel, Field

from crm_bridge.models import CreditRating, Tier


class CustomerCard(BaseModel):
    """What an agent's screen shows about a caller: the screen-pop's customer part."""

    id: int
    name: str
    phone: str  # the primary number
    tier: str
    company: str | None = None
    city: str | None = None
    phones: list[str] = []  # every number, primary first
    language: str | None = None
    agreement: str | None = None  # contract number
    home_office: str | None = None  # station code
    dedicated_agent: str | None = None  # agent extension / username
    notes: str | None = None


class AddressIn(BaseModel):
    label: str | None = Field(None, max_length=40)
    text: str = Field(min_length=1, max_length=300)
    postal_code: str | None = Field(None, max_length=16, pattern=r"^[0-9A-Za-z -]+$")
    city: str | None = Field(None, max_length=80)


class AddressView(AddressIn):
    model_config = {"from_attributes": True}

    id: int


_LANGUAGE = r"^[a-zA-Z]{2,3}(-[a-zA-Z0-9]{2,8})*$"
_STATION = r"^[A-Za-z0-9_-]+$"


class CustomerCreate(BaseModel):
    name: str = Field(min_length=1, max_length=120)
    phones: list[str] = Field(min_length=1, max_length=10, description="the first is the primary number")
    tier: Tier = Tier.walk_in
    company: str | None = Field(None, max_length=200)
    city: str | None = Field(None, max_length=80)
    language: str | None = Field(None, max_length=16, pattern=_LANGUAGE)
    agreement: str | None = Field(None, max_length=40)
    home_office: str | None = Field(None, max_length=16, pattern=_STATION)
    dedicated_agent: str | None = Field(None, max_length=64)
    notes: str | None = Field(None, max_length=4000)
    credit: CreditRating = CreditRating.good
    addresses: list[AddressIn] = Field(default_factory=list, max_length=20)


class CustomerUpdate(BaseModel):
    """Only the fields sent change; ``phones`` and ``addresses`` replace the whole list. The tier is
    changed through ``PUT /api/customers/{id}/tier`` (recorded in the grade history)."""

    name: str | None = Field(None, min_length=1, max_length=120)
    phones: list[str] | None = Field(None, min_length=1, max_length=10)
    company: str | None = Field(None, max_length=200)
    city: str | None = Field(None, max_length=80)
    language: str | None = Field(None, max_length=16, pattern=_LANGUAGE)
    agreement: str | None = Field(None, max_length=40)
    home_office: str | None = Field(None, max_length=16, pattern=_STATION)
    dedicated_agent: str | None = Field(None, max_length=64)
    notes: str | None = Field(None, max_length=4000)
    credit: CreditRating | None = None
    addresses: list[AddressIn] | None = Field(None, max_length=20)


class CustomerListItem(BaseModel):
    model_config = {"from_attributes": True}

    id: int
    name: str
    phone: str
    tier: Tier
    company: str | None
    city: str | None
    agreement: str | None
    credit: CreditRating


class CustomerPage(BaseModel):
    items: list[CustomerListItem]
    total: int
    page: int
    per_page: int


class GradeChangeView(BaseModel):
    model_config = {"from_attributes": True}

    old_tier: Tier | None
    new_tier: Tier
    reason: str
    by: str
    manual: bool
    parcels: int | None
    revenue: Decimal | None
    at: datetime


class CustomerDetail(BaseModel):
    card: CustomerCard
    tier_manual: bool
    credit: CreditRating
    addresses: list[AddressView]
    grade_history: list[GradeChangeView]  # newest first
    created_at: datetime
    updated_at: datetime


class TierOverride(BaseModel):
    tier: Tier | None = Field(description="the tier to keep; null lifts the override and grades again")
    reason: str = Field(min_length=1, max_length=250)


class GradeOutcome(BaseModel):
    customer_id: int
    old_tier: Tier
    tier: Tier
    changed: bool
    manual: bool
    reason: str


class GradingRunView(BaseModel):
    model_config = {"from_attributes": True}

    id: int
    by: str
    started_at: datetime
    finished_at: datetime | None
    customers: int
    changed: int
    error: str | None


class RejectedRow(BaseModel):
    line: int
    reason: str


class ImportReport(BaseModel):
    imported: int
    rejected: list[RejectedRow]
    rows: int
    dry_run: bool = False
