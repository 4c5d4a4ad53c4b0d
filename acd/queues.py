"""The queues that exist: one typed catalogue, rendered into queues.conf and checked by the IVR's menu."""

from __future__ import annotations

from pathlib import Path
from typing import Literal, Self

import yaml
from pydantic import BaseModel, Field, model_validator

DEFAULT_QUEUES = Path(__file__).with_name("queues.yaml")
Name = str


class QueueDefinition(BaseModel):
    strategy: Literal["ringall", "leastrecent", "fewestcalls", "random", "rrmemory", "linear", "wrandom"] = "rrmemory"
    timeout: int = Field(15, ge=1, le=300)
    retry: int = Field(2, ge=0, le=60)
    wrapuptime: int = Field(0, ge=0, le=3600)  # app_queue's own guard; the wrap-up itself: routing.yaml


class QueueCatalogFile(BaseModel):
    default: Name
    queues: dict[Name, QueueDefinition]

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        bad = [q for q in self.queues if not q.replace("_", "").replace("-", "").isalnum()]
        if bad:
            raise ValueError(f"queue names may hold letters, digits, '-' and '_' only: {bad}")
        if self.default not in self.queues:
            raise ValueError(f"default queue {self.default!r} is not defined (queues: {sorted(self.queues)})")
        return self


class Queues:
    """The catalogue (implements ``acd.interface.QueueCatalog``)."""

    def __init__(self, catalogue: QueueCatalogFile) -> None:
        self.catalogue = catalogue

    @classmethod
    def load(cls, path: Path = DEFAULT_QUEUES) -> Queues:
        with path.open(encoding="utf-8") as f:
            return cls(QueueCatalogFile.model_validate(yaml.safe_load(f)))

    @property
    def default(self) -> str:
        return self.catalogue.default

    def names(self) -> frozenset[str]:
        return frozenset(self.catalogue.queues)

    def definitions(self) -> dict[str, QueueDefinition]:
        return dict(self.catalogue.queues)
