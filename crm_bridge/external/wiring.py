"""Everything the adapter is, built from its settings: what crm_bridge's plugin provides when enabled."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from crm_bridge.external.breaker import CircuitBreaker
from crm_bridge.external.cache import TtlCache
from crm_bridge.external.config import ExternalCrmConfig
from crm_bridge.external.contract import ExternalCustomer
from crm_bridge.external.http import HttpExternalCrm
from crm_bridge.external.lookup import CrmFirstLookup
from crm_bridge.external.writeback import ExternalWriteBack
from crm_bridge.interface import CustomerLookup
from hotline.outbox import Outbox


@dataclass
class ExternalCrmAdapter:
    crm: HttpExternalCrm
    lookup: CrmFirstLookup  # a CustomerLookup: provide it as CUSTOMERS in place of the local one
    writeback: ExternalWriteBack

    def health(self) -> dict[str, Any]:
        """For /healthz: the circuit's state and the look-ups' figures."""
        return {
            "external_crm": {
                "circuit": self.crm.breaker.snapshot(),
                "requests": self.crm.requests,
                "failures": self.crm.failures,
                "written": self.writeback.sent,
                **self.lookup.health(),
            }
        }

    async def close(self) -> None:
        await self.crm.close()


def build_adapter(config: ExternalCrmConfig, local: CustomerLookup, outbox: Outbox) -> ExternalCrmAdapter | None:
    """The adapter, or None when it is not enabled."""
    if not config.enabled:
        return None
    crm = HttpExternalCrm(config, CircuitBreaker(config.breaker_failures, config.breaker_cool_down))
    cache: TtlCache[ExternalCustomer | None] = TtlCache(config.cache_size, config.cache_ttl)
    # a hair above the request's own timeout: the request normally ends itself (and is counted) first
    lookup = CrmFirstLookup(crm, local, cache, bound=config.lookup_timeout + 0.05)
    return ExternalCrmAdapter(crm, lookup, ExternalWriteBack(crm, outbox))
