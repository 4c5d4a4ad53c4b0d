"""Routing and SLA policy: which department a work order goes to, its SLA and the level it starts at, by type
and customer tier. Read from ``routing.yaml`` and validated at load: every type is covered, every department
named exists, every level is one of the levels."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Self

import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator

from workorders.states import Tier, WorkOrderType

DEFAULT_POLICY = Path(__file__).with_name("routing.yaml")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TierRule(_Strict):
    sla_hours: float | None = Field(None, gt=0, le=24 * 90)
    department: str | None = None
    level: int | None = Field(None, ge=0)


class TypeRule(_Strict):
    department: str
    sla_hours: float = Field(gt=0, le=24 * 90)
    tiers: dict[Tier, TierRule] = {}


class PolicyFile(_Strict):
    near_fraction: float = Field(0.8, gt=0, lt=1)
    fcr_window_minutes: float = Field(30, gt=0)
    revisit_after_hours: float = Field(24, gt=0)
    levels: list[str] = Field(min_length=2)
    departments: dict[str, str] = Field(min_length=1)
    types: dict[WorkOrderType, TypeRule]

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        missing = sorted(set(WorkOrderType) - set(self.types))
        if missing:
            raise ValueError(f"types without a rule: {missing}")
        if len(set(self.levels)) != len(self.levels):
            raise ValueError(f"levels must be distinct: {self.levels}")
        for name, rule in self.types.items():
            named = [rule.department] + [t.department for t in rule.tiers.values() if t.department]
            unknown = [d for d in named if d not in self.departments]
            if unknown:
                raise ValueError(
                    f"type {name} routes to unknown departments {unknown} (known: {sorted(self.departments)})"
                )
            for tier, t in rule.tiers.items():
                if t.level is not None and t.level >= len(self.levels):
                    raise ValueError(
                        f"type {name}, tier {tier}: level {t.level} beyond the last level {len(self.levels) - 1}"
                    )
        return self


@dataclass(frozen=True)
class Routing:
    """Where a new work order goes and what it is held to."""

    department: str
    sla: timedelta
    level: int


class Policy:
    def __init__(self, file: PolicyFile) -> None:
        self.file = file

    @classmethod
    def load(cls, path: Path = DEFAULT_POLICY) -> Policy:
        with path.open(encoding="utf-8") as f:
            return cls(PolicyFile.model_validate(yaml.safe_load(f)))

    @property
    def near_fraction(self) -> float:
        return self.file.near_fraction

    @property
    def levels(self) -> list[str]:
        return list(self.file.levels)

    @property
    def top_level(self) -> int:
        return len(self.file.levels) - 1

    @property
    def fcr_window(self) -> timedelta:
        return timedelta(minutes=self.file.fcr_window_minutes)

    @property
    def revisit_after(self) -> timedelta:
        return timedelta(hours=self.file.revisit_after_hours)

    def departments(self) -> dict[str, str]:
        return dict(self.file.departments)

    def route(self, type_: WorkOrderType, tier: str | None) -> Routing:
        """The routing of a ``type_`` work order for a customer of ``tier`` (unknown or no tier: the type's)."""
        rule = self.file.types[type_]
        override = rule.tiers.get(Tier(tier)) if tier in set(Tier) else None
        hours = override.sla_hours if override and override.sla_hours else rule.sla_hours
        return Routing(
            department=(override.department if override and override.department else rule.department),
            sla=timedelta(hours=hours),
            level=(override.level if override and override.level is not None else 0),
        )
