"""Pickup booking rules: pickups/pickups.yaml, validated at load."""

from __future__ import annotations

from datetime import time
from pathlib import Path
from typing import Self
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import BaseModel, Field, field_validator, model_validator

DEFAULT_RULES = Path(__file__).with_name("pickups.yaml")


class PickupRules(BaseModel):
    timezone: str = "Asia/Shanghai"
    min_window_minutes: int = Field(60, ge=0, le=24 * 60)
    max_days_ahead: int = Field(14, ge=1, le=365)
    day_starts: time = time(8)
    day_ends: time = time(20)
    max_pieces: int = Field(500, ge=1)
    max_weight_kg: float = Field(5000, gt=0)
    max_rebooks: int = Field(3, ge=0)
    station_lookup_timeout: float = Field(1.0, gt=0, le=10)

    @field_validator("timezone")
    @classmethod
    def _zone(cls, v: str) -> str:
        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError) as e:
            raise ValueError(f"unknown time zone {v!r}") from e
        return v

    @model_validator(mode="after")
    def _day(self) -> Self:
        if self.day_ends <= self.day_starts:
            raise ValueError("day_ends must be after day_starts")
        return self

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @classmethod
    def load(cls, path: Path = DEFAULT_RULES) -> PickupRules:
        with path.open(encoding="utf-8") as f:
            return cls.model_validate(yaml.safe_load(f) or {})
