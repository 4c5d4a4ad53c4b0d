"""Pickup REST API: agents book and find pickups and cancel their own; supervisors and admins manage."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Depends, Query
from fastapi import Path as PathParam

from hotline.auth import Access, Principal, Role
from pickups.models import PickupState
from pickups.queries import PickupFilter, PickupQueries
from pickups.schemas import PickupDetail, PickupPage, PickupRequest, PickupView, StateChange, StateName
from pickups.service import PickupService

REFERENCE = PathParam(min_length=8, max_length=16, description="8 digits (spaces and dashes ignored)")


def manages(me: Principal) -> bool:
    return me.is_admin or me.has(Role.supervisor)


def build_router(pickups: PickupService, queries: PickupQueries, access: Access) -> APIRouter:
    router = APIRouter(prefix="/api/pickups", tags=["pickups"])
    agent = Depends(access.requires(Role.agent))
    reader = Depends(access.requires(Role.agent, Role.supervisor))

    @router.post(
        "",
        response_model=PickupView,
        status_code=201,
        summary="Book a pickup: assigned to the serving station, or left booked with the reason why not",
    )
    async def book(body: PickupRequest, me: Principal = agent) -> PickupView:
        return await pickups.book(body, me.username)

    @router.get(
        "",
        response_model=PickupPage,
        summary="Search pickups, latest ready time first (agents: the ones they booked)",
    )
    async def search(
        station: str | None = Query(None, max_length=16),
        state: StateName | None = None,
        day: date | None = Query(None, description="the ready time's local day"),
        phone: str | None = Query(None, max_length=32),
        page: int = Query(1, ge=1, le=10_000),
        size: int = Query(50, ge=1, le=200),
        me: Principal = reader,
    ) -> PickupPage:
        f = PickupFilter(
            station=station,
            state=PickupState(state) if state else None,
            day=day,
            phone=phone,
            booked_by=None if manages(me) else me.username,
        )
        return await queries.search(f, page, size)

    @router.get(
        "/{reference}",
        response_model=PickupDetail,
        summary="A pickup and its history, by the reference the caller reads out",
    )
    async def get(reference: str = REFERENCE, _: Principal = reader) -> PickupDetail:
        return await pickups.detail(reference)

    @router.post(
        "/{reference}/state",
        response_model=PickupDetail,
        summary="Change a pickup's state (agents: cancel the ones they booked; supervisors: any allowed change)",
    )
    async def change_state(body: StateChange, reference: str = REFERENCE, me: Principal = reader) -> PickupDetail:
        return await pickups.change_state(reference, body, me.username, manages(me))

    return router
