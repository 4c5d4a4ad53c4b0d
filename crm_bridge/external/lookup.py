"""Customer look-ups that ask the external CRM first and fall back to the local records.

The local look-up starts at once, beside the CRM's; the CRM's answer is awaited at most ``bound`` seconds
(``bounded``: given up at the deadline even if cancelling the request hangs), so the CRM never adds more
than the bound to what the local look-up costs anyway. A CRM that is slow, failing or behind an open
circuit means the local card as it is.

The card's ``id`` is always the local customer's (interactions and work orders link to it): a CRM answer
is laid over the local card of the same phone (the CRM's non-empty values win). A caller the CRM knows
but the local records do not cannot be linked, so the answer is the local one (None), counted as
``crm_only`` in the health figures: import such customers locally to link their calls.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from crm_bridge.external.cache import TtlCache
from crm_bridge.external.contract import ExternalCustomer
from crm_bridge.external.interface import ExternalCrm
from crm_bridge.interface import CustomerLookup
from crm_bridge.phones import normalise
from crm_bridge.schemas import CustomerCard
from hotline.bounded import bounded
from hotline.errors import first_line
from hotline.logs import get_logger

log = get_logger(__name__)

TIERS = frozenset({"walk_in", "regular", "mid", "vip", "key_account"})
_FAILED = object()


def merge(local: CustomerCard, external: ExternalCustomer) -> CustomerCard:
    """The local card with the CRM's values laid over it (only fields the card has; the id stays local)."""
    offered: dict[str, Any] = external.model_dump(exclude={"external_id"}, exclude_none=True)
    if offered.get("tier") not in TIERS:
        offered.pop("tier", None)
    if not offered.get("phones"):
        offered.pop("phones", None)
    update = {k: v for k, v in offered.items() if k in CustomerCard.model_fields and k != "id"}
    return CustomerCard.model_validate(local.model_dump() | update)


class CrmFirstLookup:
    """Implements ``crm_bridge.interface.CustomerLookup`` over an ``ExternalCrm`` and the local look-up."""

    def __init__(self, crm: ExternalCrm, local: CustomerLookup, cache: TtlCache[ExternalCustomer | None], bound: float):
        self.crm = crm
        self.local = local
        self.cache = cache
        self.bound = bound
        self.fallbacks = 0  # answers given without the CRM (slow, failing, circuit open)
        self.crm_only = 0  # callers the CRM knows and the local records do not
        self.last_error: str | None = None

    async def card_by_phone(self, number: str | None) -> CustomerCard | None:
        phone = normalise(number)
        if phone is None:
            return None
        local_task = asyncio.ensure_future(self.local.card_by_phone(phone))
        try:
            external = await self._external(phone)
        except BaseException:
            local_task.cancel()
            with contextlib.suppress(BaseException):
                await local_task
            raise
        local = await local_task
        return self._combine(local, external)

    async def card_by_id(self, customer_id: int) -> CustomerCard | None:
        local = await self.local.card_by_id(customer_id)
        if local is None:
            return None
        return self._combine(local, await self._external(local.phone))

    def _combine(self, local: CustomerCard | None, external: object) -> CustomerCard | None:
        if not isinstance(external, ExternalCustomer):
            return local
        if local is None:
            self.crm_only += 1
            return None
        return merge(local, external)

    async def _external(self, phone: str) -> object:
        """The CRM's answer (an ExternalCustomer or None), or _FAILED; never later than the bound."""
        found, cached = self.cache.get(phone)
        if found:
            return cached
        try:
            answer = await bounded(self.crm.lookup(phone), self.bound)
        except Exception as e:
            self.fallbacks += 1
            self.last_error = first_line(e)
            log.info("external CRM not used for this look-up", error=self.last_error)
            return _FAILED
        self.cache.put(phone, answer)
        return answer

    def health(self) -> dict[str, Any]:
        return {
            "fallbacks": self.fallbacks,
            "crm_only": self.crm_only,
            "cache_entries": len(self.cache),
            "cache_hits": self.cache.hits,
            "last_error": self.last_error,
        }
