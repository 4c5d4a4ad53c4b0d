"""Write-back to the external CRM through the core outbox: a record is on local disk before ``put``
returns, so a CRM outage of any length loses nothing; the outbox retries transient failures (CrmUnavailable
is a ConnectionError) and parks rejected records (CrmRejected) for an admin to see and put back.

Nothing is sent twice: every record carries its idempotency key (the ``Idempotency-Key`` header; the CRM
keeps the first and acknowledges repeats), and keys the CRM has acknowledged are remembered here, so a
batch retried after a failure half-way does not send its first half again.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from crm_bridge.external.contract import InteractionRecord, WorkOrderRecord
from crm_bridge.external.interface import ExternalCrm
from hotline.outbox import Outbox

INTERACTION_KIND = "external_crm_interaction"
WORK_ORDER_KIND = "external_crm_work_order"
R = TypeVar("R", InteractionRecord, WorkOrderRecord)


class ExternalWriteBack:
    def __init__(self, crm: ExternalCrm, outbox: Outbox, remember: int = 10_000) -> None:
        self.crm = crm
        self.outbox = outbox
        self.remember = remember
        self._acknowledged: OrderedDict[str, None] = OrderedDict()
        self.sent = 0
        outbox.register(INTERACTION_KIND, InteractionRecord, self._sink(crm.write_interaction), shared=False)
        outbox.register(WORK_ORDER_KIND, WorkOrderRecord, self._sink(crm.write_work_order), shared=False)

    async def interaction(self, record: InteractionRecord) -> None:
        """Keep a finished call's summary for the CRM (returns once it is safe on local disk)."""
        await self.outbox.put(INTERACTION_KIND, record)

    async def work_order(self, record: WorkOrderRecord) -> None:
        await self.outbox.put(WORK_ORDER_KIND, record)

    def _sink(self, send: Callable[[Any], Awaitable[None]]) -> Callable[[AsyncSession, list[Any]], Awaitable[None]]:
        async def sink(_: AsyncSession, records: list[BaseModel]) -> None:
            for record in records:
                key: str = record.idempotency_key  # type: ignore[attr-defined]
                if key in self._acknowledged:
                    continue
                await send(record)
                self.sent += 1
                self._acknowledged[key] = None
                while len(self._acknowledged) > self.remember:
                    self._acknowledged.popitem(last=False)

        return sink
