"""Pickup API shapes (also the types of the PICKUPS interface)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

StateName = Literal["booked", "assigned", "picked_up", "failed", "cancelled"]


class PickupRequest(BaseModel):
    """A pickup as the caller gives it. ``phone`` in any form a person says it (stored in E.164)."""

    name: str = Field(min_length=1, max_length=120)
    phone: str = Field(min_length=3, max_length=32)
    address: str = Field(min_length=3, max_length=300)
    postal_code: str = Field(min_length=3, max_length=12, pattern=r"^[0-9A-Za-z][0-9A-Za-z -]{1,10}[0-9A-Za-z]$")
    pieces: int = Field(ge=1)
    weight_kg: float = Field(gt=0)
    goods: str = Field(min_length=1, max_length=200)
    destination: str = Field(min_length=1, max_length=200)
    ready_at: datetime = Field(description="when the parcels are ready (with a time zone)")
    close_at: datetime = Field(description="the latest a courier may come (with a time zone)")
    customer_id: int | None = Field(None, ge=1)

    @field_validator("name", "address", "goods", "destination")
    @classmethod
    def _strip(cls, v: str) -> str:
        v = " ".join(v.split())
        if not v:
            raise ValueError("must not be blank")
        return v

    @field_validator("postal_code")
    @classmethod
    def _postal(cls, v: str) -> str:
        return v.replace(" ", "").replace("-", "").upper()

    @field_validator("ready_at", "close_at")
    @classmethod
    def _aware(cls, v: datetime) -> datetime:
        if v.tzinfo is None:
            raise ValueError("give the time zone (e.g. 2026-11-25T14:00:00+08:00)")
        return v


class PickupView(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    reference: str = Field(description="8 digits, the last a Damm check digit")
    state: StateName
    name: str
    phone: str
    address: str
    postal_code: str
    pieces: int
    weight_kg: float
    goods: str
    destination: str
    ready_at: datetime
    close_at: datetime
    customer_id: int | None
    station_code: str | None
    unassigned_reason: str | None = Field(description="why no station has it yet (state booked)")
    booked_by: str
    rebooks: int
    created_at: datetime
    updated_at: datetime


class PickupChangeView(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    at: datetime
    by: str
    from_state: StateName | None
    to_state: StateName
    reason: str | None


class PickupDetail(PickupView):
    history: list[PickupChangeView]


class PickupPage(BaseModel):
    items: list[PickupView]
    total: int
    page: int
    size: int


class StateChange(BaseModel):
    """A change of state. ``booked`` again is a rebooking of a failed pickup: it needs a new window.
    ``assigned`` takes ``station_code`` if given (a supervisor's choice), else asks which station serves."""

    to: StateName
    reason: str | None = Field(None, max_length=300)
    ready_at: datetime | None = None
    close_at: datetime | None = None
    station_code: str | None = Field(None, min_length=1, max_length=16, pattern=r"^[A-Za-z0-9_-]+$")
