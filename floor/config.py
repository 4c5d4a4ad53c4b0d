"""The floor's settings (``floor.yaml``): the day's time zone and each queue's thresholds."""

from __future__ import annotations

from pathlib import Path
from typing import Self
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import BaseModel, Field, field_validator

DEFAULT_CONFIG = Path(__file__).with_name("floor.yaml")


class Thresholds(BaseModel):
    service_level_seconds: float = Field(20, gt=0, le=3600)
    service_level_target: float = Field(0.8, ge=0, le=1)
    max_longest_wait: float = Field(60, gt=0, le=24 * 3600)
    min_calls: int = Field(5, ge=1, le=10000)


class ThresholdOverride(BaseModel):
    service_level_seconds: float | None = Field(None, gt=0, le=3600)
    service_level_target: float | None = Field(None, ge=0, le=1)
    max_longest_wait: float | None = Field(None, gt=0, le=24 * 3600)
    min_calls: int | None = Field(None, ge=1, le=10000)


class FloorConfig(BaseModel):
    timezone: str = "UTC"
    defaults: Thresholds = Thresholds.model_validate({})
    queues: dict[str, ThresholdOverride] = {}

    @field_validator("timezone")
    @classmethod
    def _zone(cls, v: str) -> str:
        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError) as e:
            raise ValueError(f"unknown time zone {v!r}") from e
        return v

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def thresholds(self, queue: str) -> Thresholds:
        override = self.queues.get(queue)
        if override is None:
            return self.defaults
        return self.defaults.model_copy(update=override.model_dump(exclude_none=True))

    @classmethod
    def load(cls, path: Path = DEFAULT_CONFIG) -> Self:
        with path.open(encoding="utf-8") as f:
            return cls.model_validate(yaml.safe_load(f) or {})
