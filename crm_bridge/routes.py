"""Customers' REST API: agents read customers; supervisors and admins create, update, grade and import."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Request

from crm_bridge.book import CustomerBook
from crm_bridge.errors import ImportTooLarge
from crm_bridge.grading import Grader
from crm_bridge.importer import MAX_BYTES, CustomerImporter
from crm_bridge.models import Tier
from crm_bridge.schemas import (
    CustomerCreate,
    CustomerDetail,
    CustomerPage,
    CustomerUpdate,
    GradeOutcome,
    GradingRunView,
    ImportReport,
    TierOverride,
)
from hotline.auth import Access, Principal, Role

CSV_BODY = {
    "requestBody": {
        "required": True,
        "description": "the CSV file itself (UTF-8, a header line naming the columns)",
        "content": {"text/csv": {"schema": {"type": "string"}}},
    }
}


def build_router(book: CustomerBook, grader: Grader, importer: CustomerImporter, access: Access) -> APIRouter:
    router = APIRouter(prefix="/api/customers", tags=["customers"])
    reader = Depends(access.requires(Role.agent, Role.supervisor))
    manager = Depends(access.requires(Role.supervisor))

    @router.get("", response_model=CustomerPage, summary="Search customers by name, phone, company or tier, paged")
    async def search(
        q: str | None = Query(None, max_length=120, description="a phone number, or part of a name or company"),
        tier: Tier | None = None,
        phone: str | None = Query(None, max_length=40),
        company: str | None = Query(None, max_length=200),
        page: int = Query(1, ge=1, le=100_000),
        per_page: int = Query(25, ge=1, le=200),
        _: Principal = reader,
    ) -> CustomerPage:
        return await book.search(q, tier, phone, company, page, per_page)

    @router.post("", response_model=CustomerDetail, status_code=201, summary="Add a customer")
    async def create(body: CustomerCreate, me: Principal = manager) -> CustomerDetail:
        return await book.create(body, by=me.username)

    @router.post(
        "/import",
        response_model=ImportReport,
        summary="Import customers from CSV: all rows or none; the report lists refused rows (line, reason)",
        openapi_extra=CSV_BODY,
    )
    async def import_csv(
        request: Request,
        dry_run: bool = Query(False, description="check only: import nothing"),
        me: Principal = manager,
    ) -> ImportReport:
        data = bytearray()
        async for chunk in request.stream():
            data += chunk
            if len(data) > MAX_BYTES:
                raise ImportTooLarge(f"the file is larger than {MAX_BYTES // (1024 * 1024)} MiB: split it")
        return await importer.run(bytes(data), by=me.username, dry_run=dry_run)

    @router.post(
        "/grading",
        response_model=list[GradingRunView],
        status_code=202,
        summary="Grade every customer now, in the background (the runs, newest first, tell when it is done)",
    )
    async def grade_all(me: Principal = manager) -> list[GradingRunView]:
        grader.start_all(by=me.username)
        return await grader.runs(limit=5)

    @router.get("/grading/runs", response_model=list[GradingRunView], summary="Grading passes, newest first")
    async def grading_runs(limit: int = Query(20, ge=1, le=200), _: Principal = manager) -> list[GradingRunView]:
        return await grader.runs(limit)

    @router.get("/{customer_id}", response_model=CustomerDetail, summary="One customer: card, addresses, grade history")
    async def detail(customer_id: int, _: Principal = reader) -> CustomerDetail:
        return await book.detail(customer_id)

    @router.patch("/{customer_id}", response_model=CustomerDetail, summary="Change a customer (not the tier)")
    async def update(customer_id: int, body: CustomerUpdate, _: Principal = manager) -> CustomerDetail:
        return await book.update(customer_id, body)

    @router.put(
        "/{customer_id}/tier",
        response_model=GradeOutcome,
        summary="Set the tier by hand (kept by grading until lifted with tier = null)",
    )
    async def set_tier(customer_id: int, body: TierOverride, me: Principal = manager) -> GradeOutcome:
        return await grader.override(customer_id, body.tier, body.reason, by=me.username)

    @router.post(
        "/{customer_id}/grade", response_model=GradeOutcome, summary="Grade one customer now from shipment history"
    )
    async def grade_one(customer_id: int, me: Principal = manager) -> GradeOutcome:
        return await grader.grade_one(customer_id, by=me.username)

    return router
