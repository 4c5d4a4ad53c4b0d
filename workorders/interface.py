"""The work-order desk's service interface for other packages (the screen-pop, the IVR)."""

from __future__ import annotations

from typing import Protocol

from hotline.plugins import ServiceKey
from workorders.schemas import NewWorkOrder, WorkOrderSummary


class WorkOrderDesk(Protocol):
    async def open_for_customer(self, customer_id: int, limit: int = 10) -> list[WorkOrderSummary]:
        """The customer's work orders not yet resolved, most urgent (earliest due) first."""
        ...

    async def open(self, order: NewWorkOrder, by: str) -> WorkOrderSummary:
        """Open a work order: routed, SLA set by type and the customer's tier; ``by`` is a username."""
        ...


WORK_ORDERS: ServiceKey[WorkOrderDesk] = ServiceKey("workorders.work_orders")
