"""Shipments' and stations' REST API.

Agents and supervisors read (tracking, search, stations, the station serving a postal code); recording a
scan is a supervisor's or an admin's (scanners and station systems sign in as a user with the supervisor
role); CSV imports are an admin's.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from fastapi import APIRouter, Depends, Query, Request
from fastapi import Path as PathParam

from hotline.auth import Access, Principal, Role
from hotline.errors import HotlineError
from shipments.errors import ShipmentNotFound, StationNotFound
from shipments.imports import ShipmentImporter
from shipments.schemas import (
    ImportReport,
    NewScan,
    ServingStation,
    ShipmentPage,
    StationDetail,
    StationView,
    Tracking,
)
from shipments.services.stations import StationDirectory
from shipments.services.tracking import ShipmentFilter, ShipmentService
from shipments.status import ExceptionKind, Service, ShipmentStatus

MAX_CSV_BYTES = 64 * 1024 * 1024
CSV_BODY = {"requestBody": {"required": True, "content": {"text/csv": {"schema": {"type": "string"}}}}}
WAYBILL = PathParam(max_length=40, description="13 digits (domestic) or the S10 form, e.g. EE123456785CN")


async def _csv_text(request: Request) -> str:
    body = await request.body()
    if len(body) > MAX_CSV_BYTES:
        raise HotlineError(f"a CSV file of at most {MAX_CSV_BYTES // (1024 * 1024)} MiB, please")
    return body.decode("utf-8-sig", errors="replace")


def build_router(
    shipments: ShipmentService,
    stations: StationDirectory,
    importer: ShipmentImporter,
    access: Access,
    clock: Callable[[], datetime],
) -> APIRouter:
    router = APIRouter(prefix="/api", tags=["shipments"])
    reader = Depends(access.requires(Role.agent, Role.supervisor))
    supervisor = Depends(access.requires(Role.supervisor))
    admin = Depends(access.requires(Role.admin))

    @router.get("/shipments", response_model=ShipmentPage, summary="Shipments, newest first, filtered and paged")
    async def search(
        customer_id: int | None = Query(None, description="the sender's customer id"),
        status: ShipmentStatus | None = None,
        exception: ExceptionKind | None = None,
        service: Service | None = None,
        created_from: datetime | None = None,
        created_until: datetime | None = None,
        offset: int = Query(0, ge=0, le=100_000),
        limit: int = Query(50, ge=1, le=500),
        _: Principal = reader,
    ) -> ShipmentPage:
        where = ShipmentFilter(customer_id, status, exception, service, created_from, created_until)
        return await shipments.search(where, offset, limit)

    @router.get("/shipments/{waybill}", response_model=Tracking, summary="Track a waybill: status and every scan")
    async def track(waybill: str = WAYBILL, _: Principal = reader) -> Tracking:
        found = await shipments.track(waybill)
        if found is None:
            raise ShipmentNotFound(f"no shipment {waybill}")
        return found

    @router.post(
        "/shipments/{waybill}/scans",
        response_model=Tracking,
        status_code=201,
        summary="Record a scan (it may be older than scans already known: status follows scan time)",
    )
    async def record_scan(body: NewScan, waybill: str = WAYBILL, me: Principal = supervisor) -> Tracking:
        return await shipments.record_scan(waybill, body, me.username)

    @router.post(
        "/shipments/import",
        response_model=ImportReport,
        summary="Import shipments from CSV (text/csv): all rows or none, with the rejected rows' reasons",
        openapi_extra=CSV_BODY,
    )
    async def import_shipments(request: Request, _: Principal = admin) -> ImportReport:
        return await importer.shipments(await _csv_text(request))

    @router.post(
        "/scans/import",
        response_model=ImportReport,
        summary="Import scan events from CSV (text/csv): all rows or none; statuses recomputed",
        openapi_extra=CSV_BODY,
    )
    async def import_scans(request: Request, me: Principal = admin) -> ImportReport:
        return await importer.scans(await _csv_text(request), me.username)

    @router.get("/stations", response_model=list[StationView], summary="Stations, by code")
    async def list_stations(city: str | None = Query(None, max_length=80), _: Principal = reader) -> list[StationView]:
        return await stations.all(city)

    @router.get("/stations/{code}", response_model=StationDetail, summary="A station, its hours and postal codes")
    async def get_station(code: str = PathParam(max_length=16), _: Principal = reader) -> StationDetail:
        return await stations.detail(code)

    @router.get(
        "/postal-codes/{postal_code}/station",
        response_model=ServingStation,
        summary="The station serving a postal code, and whether it is open now",
    )
    async def serving(postal_code: str = PathParam(max_length=12), _: Principal = reader) -> ServingStation:
        station = await stations.serving(postal_code)
        if station is None:
            raise StationNotFound(f"no station serves {postal_code}")
        return ServingStation(
            postal_code=postal_code, station=station, opening=await stations.opening(station.code, clock())
        )

    return router
