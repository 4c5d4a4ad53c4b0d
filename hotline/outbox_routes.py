"""The outbox seen by an admin: how many records wait, which ones the database refused for good (parked,
with the error), and putting those back in line once the cause is fixed."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from hotline.auth import Access, Principal, Role
from hotline.outbox import Outbox


class ParkedView(BaseModel):
    id: int
    kind: str
    body: str
    error: str
    created_at: float


class OutboxView(BaseModel):
    pending: int
    parked: int
    delivered_total: int
    oldest_pending_age_s: float | None
    last_error: str | None
    parked_records: list[ParkedView]


class RetryRequest(BaseModel):
    ids: list[int] = Field(min_length=1, max_length=10_000)


class RetryResult(BaseModel):
    requeued: int


def build_router(outbox: Outbox, access: Access) -> APIRouter:
    router = APIRouter(prefix="/api/admin/outbox", tags=["ops"])
    admin = Depends(access.requires(Role.admin))

    @router.get("", response_model=OutboxView, summary="Records not yet in the database, and the parked ones")
    async def show(_: Principal = admin) -> OutboxView:
        stats = outbox.stats
        parked = [ParkedView(**p.__dict__) for p in await outbox.parked()]
        return OutboxView(**stats.__dict__, parked_records=parked)

    @router.post("/retry", response_model=RetryResult, summary="Put parked records back in line")
    async def retry(body: RetryRequest, _: Principal = admin) -> RetryResult:
        return RetryResult(requeued=await outbox.retry_parked(body.ids))

    return router
