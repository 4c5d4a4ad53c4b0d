"""web's wiring: the pages and their static assets."""

from __future__ import annotations

from pathlib import Path

from fastapi import Depends, FastAPI
from fastapi.responses import FileResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles

from hotline.auth import mark_public, public
from hotline.plugins import Core, Plugin

WEB = Path(__file__).resolve().parent


class WebPlugin(Plugin):
    def install(self, app: FastAPI) -> None:
        app.mount("/static", mark_public(StaticFiles(directory=WEB / "static")), name="static")
        open_to_all = [Depends(public)]  # the pages hold no data: what they show comes from role-checked routes

        @app.get("/", include_in_schema=False, dependencies=open_to_all)
        async def index() -> RedirectResponse:
            return RedirectResponse("/agent")

        @app.get("/agent", include_in_schema=False, dependencies=open_to_all)
        async def agent_page() -> FileResponse:
            return FileResponse(WEB / "agent.html")

        @app.get("/workorders", include_in_schema=False, dependencies=open_to_all)
        async def work_orders_page() -> FileResponse:
            return FileResponse(WEB / "workorders.html")

        @app.get("/wallboard", include_in_schema=False, dependencies=open_to_all)
        async def wallboard_page() -> FileResponse:
            return FileResponse(WEB / "wallboard.html")

        @app.get("/customers", include_in_schema=False, dependencies=open_to_all)
        async def customers_page() -> FileResponse:
            return FileResponse(WEB / "customers.html")

        @app.get("/recordings", include_in_schema=False, dependencies=open_to_all)
        async def recordings_page() -> FileResponse:
            return FileResponse(WEB / "recordings.html")

        @app.get("/reports", include_in_schema=False, dependencies=open_to_all)
        async def reports_page() -> FileResponse:
            return FileResponse(WEB / "reports.html")

        @app.get("/ivr", include_in_schema=False, dependencies=open_to_all)
        async def ivr_page() -> FileResponse:
            return FileResponse(WEB / "ivr.html")

        @app.get("/qa", include_in_schema=False, dependencies=open_to_all)
        async def qa_page() -> FileResponse:
            return FileResponse(WEB / "qa.html")


def setup(core: Core) -> WebPlugin:
    return WebPlugin()
