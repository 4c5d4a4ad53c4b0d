"""What the desk wants beside the customer card: recent contacts, recent shipments, open work orders.

Fetched while the caller is still in the IVR (or right after a late look-up), each part from the package
that owns it through its service interface, all at once and each within its own bound: a part that is
slow or failing is left empty (and logged); it never holds the pop back nor takes the others with it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from cms.interface import ContactHistory
from hotline.bounded import bounded
from hotline.logs import get_logger
from shipments.interface import ShipmentLookup
from shipments.schemas import ShipmentSummary
from workorders.interface import WorkOrderDesk
from workorders.schemas import WorkOrderSummary

log = get_logger(__name__)
T = TypeVar("T")

RECENT_CONTACTS = 3
RECENT_SHIPMENTS = 5
OPEN_WORK_ORDERS = 10


@dataclass
class PopExtras:
    recent_contacts: list[dict[str, Any]] = field(default_factory=list)
    shipments: list[ShipmentSummary] = field(default_factory=list)
    work_orders: list[WorkOrderSummary] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)  # the parts that could not be fetched in time


class ExtrasLoader:
    def __init__(
        self,
        history: ContactHistory | None = None,
        shipments: ShipmentLookup | None = None,
        work_orders: WorkOrderDesk | None = None,
        timeout: float = 1.0,
    ) -> None:
        self.history = history
        self.shipments = shipments
        self.work_orders = work_orders
        self.timeout = timeout

    async def load(self, customer_id: int) -> PopExtras:
        extras = PopExtras()
        history, shipments, work_orders = self.history, self.shipments, self.work_orders
        contacts, parcels, orders = await asyncio.gather(
            self._part("recent_contacts", extras, history.recent(customer_id, RECENT_CONTACTS) if history else None),
            self._part(
                "shipments", extras, shipments.recent_for_customer(customer_id, RECENT_SHIPMENTS) if shipments else None
            ),
            self._part(
                "work_orders",
                extras,
                work_orders.open_for_customer(customer_id, OPEN_WORK_ORDERS) if work_orders else None,
            ),
        )
        extras.recent_contacts, extras.shipments, extras.work_orders = contacts, parcels, orders
        return extras

    async def _part(self, name: str, extras: PopExtras, fetch: Awaitable[list[T]] | None) -> list[T]:
        if fetch is None:  # no package provides it
            return []
        try:
            return await bounded(fetch, self.timeout)
        except Exception as e:
            extras.missing.append(name)
            log.warning("screen-pop part not loaded", part=name, error=repr(e))
            return []
