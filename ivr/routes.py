"""The IVR's admin routes: the menu as a graph (for the diagram), a reload, and a call's node visits."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel
from sqlalchemy import select

from hotline.auth import Access, Role
from hotline.db import Database
from ivr.models import NodeVisit
from ivr.store import MenuStore


class ReloadView(BaseModel):
    changed: bool
    version: str
    error: str | None


class VisitView(BaseModel):
    model_config = {"from_attributes": True}

    seq: int
    node: str
    kind: str
    language: str | None
    input: str | None
    result: str
    duration_ms: int
    at: datetime
    menu_version: str


def build_router(store: MenuStore, db: Database, access: Access) -> APIRouter:
    router = APIRouter(prefix="/api/ivr", tags=["ivr"])
    managers = [Depends(access.requires(Role.supervisor, Role.admin))]

    @router.get("/menu", dependencies=managers, summary="The menu in use as nodes and edges, and the last reload error")
    async def menu_graph() -> dict[str, Any]:
        version = await store.loaded()
        return {**version.menu.graph(), "error": store.error, "file": str(store.path)}

    @router.post(
        "/menu/reload",
        response_model=ReloadView,
        dependencies=[Depends(access.requires(Role.admin))],
        summary="Read the menu file again (a bad file keeps the version in use and says why)",
    )
    async def reload() -> ReloadView:
        report = await store.reload(force=True)
        return ReloadView(changed=report.changed, version=report.version, error=report.error)

    @router.get(
        "/visits", response_model=list[VisitView], dependencies=managers, summary="A call's walk through the menu"
    )
    async def visits(call_id: str = Query(min_length=1, max_length=64)) -> list[VisitView]:
        async with db.session() as session:
            rows = await session.execute(select(NodeVisit).where(NodeVisit.call_id == call_id).order_by(NodeVisit.seq))
            return [VisitView.model_validate(v) for v in rows.scalars()]

    return router
