"""A stand-in for the shipments service's ``volumes`` (SHIPMENTS.volumes): fixed parcels and revenue."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal


@dataclass(frozen=True)
class Volume:
    parcels: int
    revenue: Decimal


class FakeVolumes:
    def __init__(self, volumes: dict[int, tuple[int, str | int]] | None = None) -> None:
        self.volumes = {k: Volume(p, Decimal(r)) for k, (p, r) in (volumes or {}).items()}
        self.asked: list[tuple[list[int], datetime, datetime]] = []

    async def __call__(self, customer_ids: Sequence[int], since: datetime, until: datetime) -> dict[int, Volume]:
        self.asked.append((list(customer_ids), since, until))
        return {i: self.volumes[i] for i in customer_ids if i in self.volumes}
