"""The reports' settings (``cms/reports.yaml``): time zone, short abandons, FCR window, service levels."""

from __future__ import annotations

import enum
from pathlib import Path
from typing import Self
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import BaseModel, Field, field_validator

DEFAULT_CONFIG = Path(__file__).with_name("reports.yaml")


class AbandonsWithinThreshold(enum.StrEnum):
    """How a (not short) abandon before the service-level threshold counts in the service level."""

    neutral = "neutral"  # left out of the denominator
    failed = "failed"  # a call not answered in time
    met = "met"  # a call served in time


class ServiceLevel(BaseModel):
    service_level_seconds: float = Field(20, gt=0, le=3600)
    service_level_target: float = Field(0.8, gt=0, lt=1)


class ServiceLevelOverride(BaseModel):
    service_level_seconds: float | None = Field(None, gt=0, le=3600)
    service_level_target: float | None = Field(None, gt=0, lt=1)


class ReportConfig(BaseModel):
    timezone: str = "UTC"
    short_abandon_seconds: float = Field(5, ge=0, le=600)
    fcr_days: int = Field(7, ge=1, le=90)
    abandons_within_threshold: AbandonsWithinThreshold = AbandonsWithinThreshold.neutral
    defaults: ServiceLevel = ServiceLevel.model_validate({})
    queues: dict[str, ServiceLevelOverride] = {}

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

    def service_level(self, queue: str | None) -> ServiceLevel:
        override = self.queues.get(queue or "")
        if override is None:
            return self.defaults
        return self.defaults.model_copy(update=override.model_dump(exclude_none=True))

    def threshold(self, queue: str | None) -> float:
        return self.service_level(queue).service_level_seconds

    @classmethod
    def load(cls, path: Path = DEFAULT_CONFIG) -> Self:
        with path.open(encoding="utf-8") as f:
            return cls.model_validate(yaml.safe_load(f) or {})
