"""The external CRM over HTTP (docs/EXTERNAL-CRM.md): every request bounded in time and counted by the
circuit breaker; 5xx, 408, 429, timeouts and refused connections are "try later" (CrmUnavailable),
other 4xx are "wrong request" (CrmRejected)."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from pydantic import BaseModel, ValidationError

from crm_bridge.external.breaker import CircuitBreaker
from crm_bridge.external.config import ExternalCrmConfig
from crm_bridge.external.contract import ExternalCustomer, InteractionRecord, WorkOrderRecord
from crm_bridge.external.interface import CrmRejected, CrmUnavailable
from hotline.errors import first_line

RETRYABLE_STATUS = frozenset({408, 429})


class HttpExternalCrm:
    """Implements ``ExternalCrm``."""

    def __init__(
        self,
        config: ExternalCrmConfig,
        breaker: CircuitBreaker | None = None,
        client: httpx.AsyncClient | None = None,
    ) -> None:
        self.config = config
        self.breaker = breaker or CircuitBreaker(config.breaker_failures, config.breaker_cool_down)
        headers = {"Accept": "application/json"}
        if config.token is not None:
            headers["Authorization"] = f"Bearer {config.token.get_secret_value()}"
        self.client = client or httpx.AsyncClient(
            base_url=config.base_url,
            headers=headers,
            limits=httpx.Limits(max_connections=20, max_keepalive_connections=10),
        )
        self.requests = 0
        self.failures = 0

    async def close(self) -> None:
        await self.client.aclose()

    async def _call(self, method: str, path: str, timeout: float, **kwargs: Any) -> httpx.Response:
        """One request, within ``timeout`` in all (httpx's own timeouts are per phase); the breaker counts it."""
        if self.client.is_closed:  # shutting down: the outbox keeps the record for the next start
            raise CrmUnavailable("the CRM client is closed")
        if not self.breaker.allow():
            raise CrmUnavailable(f"circuit {self.breaker.state}: the CRM is not asked for now")
        self.requests += 1
        try:
            async with asyncio.timeout(timeout):
                response = await self.client.request(method, path, timeout=timeout, **kwargs)
        except (TimeoutError, httpx.TimeoutException) as e:
            self._failed()
            raise CrmUnavailable(f"{method} {path}: no answer within {timeout} s") from e
        except httpx.TransportError as e:  # refused, reset, DNS, protocol garbage
            self._failed()
            raise CrmUnavailable(f"{method} {path}: {first_line(e)}") from e
        except asyncio.CancelledError:  # the caller gave up: a trial must not stay in flight for ever
            self._failed()
            raise
        if response.status_code >= 500 or response.status_code in RETRYABLE_STATUS:
            self._failed()
            raise CrmUnavailable(f"{method} {path}: HTTP {response.status_code}")
        self.breaker.success()
        return response

    def _failed(self) -> None:
        self.failures += 1
        self.breaker.failure()

    async def lookup(self, phone: str) -> ExternalCustomer | None:
        r = await self._call("GET", "/customers/lookup", self.config.lookup_timeout, params={"phone": phone})
        if r.status_code == 404:
            return None
        if r.status_code != 200:
            raise CrmRejected(f"look-up answered HTTP {r.status_code}: {r.text[:200]}")
        try:
            return ExternalCustomer.model_validate_json(r.content)
        except ValidationError as e:
            raise CrmRejected(f"look-up answer is not a customer: {first_line(e)}") from e

    async def _write(self, path: str, record: BaseModel, key: str) -> None:
        r = await self._call(
            "POST",
            path,
            self.config.write_timeout,
            content=record.model_dump_json(),
            headers={"Content-Type": "application/json", "Idempotency-Key": key},
        )
        if r.status_code == 409 or 200 <= r.status_code < 300:  # 409: it has this key already
            return
        raise CrmRejected(f"POST {path} answered HTTP {r.status_code}: {r.text[:200]}")

    async def write_interaction(self, record: InteractionRecord) -> None:
        await self._write("/interactions", record, record.idempotency_key)

    async def write_work_order(self, record: WorkOrderRecord) -> None:
        await self._write("/work-orders", record, record.idempotency_key)
