"""web's wiring: the pages and their static assets."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

from fastapi import Depends, FastAPI
from fastapi.responses import FileResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles

from hotline.auth import mark_public, public
from hotline.plugins import Core, Plugin

WEB = Path(__file__).resolve().parent
# each page: static HTML and its script; what it shows comes from the role-checked REST routes and sockets
PAGES = {
    "/agent": "agent.html",
    "/workorders": "workorders.html",
    "/wallboard": "wallboard.html",
    "/customers": "customers.html",
    "/recordings": "recordings.html",
    "/reports": "reports.html",
    "/ivr": "ivr.html",
    "/qa": "qa.html",
}


def _serve(file: Path) -> Callable[[], Awaitable[FileResponse]]:
    async def page() -> FileResponse:
        return FileResponse(file)

    page.__name__ = f"{file.stem}_page"
    return page


class WebPlugin(Plugin):
    def install(self, app: FastAPI) -> None:
        app.mount("/static", mark_public(StaticFiles(directory=WEB / "static")), name="static")
        open_to_all = [Depends(public)]  # the pages hold no data: what they show comes from role-checked routes

        @app.get("/", include_in_schema=False, dependencies=open_to_all)
        async def index() -> RedirectResponse:
            return RedirectResponse("/agent")

        for path, page in PAGES.items():
            app.add_api_route(path, _serve(WEB / page), include_in_schema=False, dependencies=open_to_all)


def setup(core: Core) -> WebPlugin:
    return WebPlugin()
