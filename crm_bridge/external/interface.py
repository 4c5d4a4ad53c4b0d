"""What the hotline needs of an external CRM; HttpExternalCrm is the one implementation."""

from __future__ import annotations

from typing import Protocol

from crm_bridge.external.contract import ExternalCustomer, InteractionRecord, WorkOrderRecord


class CrmUnavailable(ConnectionError):
    """Try again later: the CRM did not answer in time, refused the connection, answered 5xx/408/429, or
    the circuit is open. A ``ConnectionError`` on purpose: the outbox keeps such records and retries."""


class CrmRejected(Exception):
    """The CRM answered 4xx: the request itself is wrong and will stay wrong (the outbox parks it)."""


class ExternalCrm(Protocol):
    async def lookup(self, phone: str) -> ExternalCustomer | None:
        """The customer with this E.164 number, None when the CRM knows none; raises CrmUnavailable."""
        ...

    async def write_interaction(self, record: InteractionRecord) -> None: ...

    async def write_work_order(self, record: WorkOrderRecord) -> None: ...
