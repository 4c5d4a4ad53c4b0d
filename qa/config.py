"""The QA settings (``qa.yaml``), validated at load."""

from __future__ import annotations

from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator

DEFAULT_CONFIG = Path(__file__).with_name("qa.yaml")


class QaConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    sample_per_agent: int = Field(default=5, ge=1, le=200)
    seed: str = Field(default="hotline-qa-1", min_length=1, max_length=200)
    timezone: str = "UTC"
    min_duration_seconds: float = Field(default=0, ge=0, le=3600)
    check_every_seconds: float = Field(default=3600, ge=1, le=86400)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, v: str) -> str:
        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError) as e:
            raise ValueError(f"unknown time zone {v!r}") from e
        return v

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @classmethod
    def load(cls, path: Path = DEFAULT_CONFIG) -> QaConfig:
        with path.open(encoding="utf-8") as f:
            return cls.model_validate(yaml.safe_load(f) or {})
