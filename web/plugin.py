"""web's wiring: the pages and their static assets."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles

from hotline.plugins import Core, Plugin

WEB = Path(__file__).resolve().parent


class WebPlugin(Plugin):
    def install(self, app: FastAPI) -> None:
        app.mount("/static", StaticFiles(directory=WEB / "static"), name="static")

        @app.get("/", include_in_schema=False)
        async def index() -> RedirectResponse:
            return RedirectResponse("/agent")

        @app.get("/agent", include_in_schema=False)
        async def agent_page() -> FileResponse:
            return FileResponse(WEB / "agent.html")


def setup(core: Core) -> WebPlugin:
    return WebPlugin()
