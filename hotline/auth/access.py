"""Every route declares who may call it: ``access.requires(Role.x, …)`` (returns the principal) or
``public``. ``undeclared_routes`` finds any route that declares nothing (a unit test walks the app).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import Header, Query, Request, WebSocket, WebSocketException
from fastapi.routing import APIRoute, APIWebSocketRoute, iter_route_contexts
from starlette.routing import BaseRoute, Mount, Route

from hotline.auth.principal import Principal
from hotline.auth.roles import Role
from hotline.auth.sessions import Sessions
from hotline.errors import Forbidden, Unauthorized

PUBLIC = "public"
ATTRIBUTE = "hotline_access"
WS_UNAUTHORIZED = 4401
WS_FORBIDDEN = 4403


def _declare(target: Any, access: str | frozenset[Role]) -> None:
    setattr(target, ATTRIBUTE, access)


async def public() -> None:
    """Declares a route open to anyone (health, metrics, docs, static pages, sign-in). A coroutine: FastAPI
    runs a plain function dependency on its thread pool, a thread hand-off on every ``/livez`` poll."""


_declare(public, PUBLIC)


def mark_public(app: Any) -> Any:
    """Declares a mounted ASGI app (static files) public; returns it."""
    _declare(app, PUBLIC)
    return app


def _allowed(principal: Principal, wanted: frozenset[Role]) -> bool:
    return principal.is_admin or bool(principal.roles & wanted)


class Access:
    def __init__(self, sessions: Sessions) -> None:
        self.sessions = sessions

    def requires(self, *roles: Role) -> Callable[..., Awaitable[Principal]]:
        """A dependency: the signed-in principal, who must hold one of ``roles`` (admins pass all;
        no roles = any signed-in user). 401 without a valid session, 403 without the role."""
        wanted = frozenset(roles) or frozenset(Role)

        async def dependency(request: Request, authorization: str | None = Header(default=None)) -> Principal:
            if not authorization or not authorization.lower().startswith("bearer "):
                raise Unauthorized("log in first: Authorization: Bearer <token> from POST /api/session")
            principal = await self.sessions.validate(authorization[7:].strip())
            if principal is None:
                raise Unauthorized("invalid, expired or revoked session: log in again")
            if not _allowed(principal, wanted):
                raise Forbidden(f"this needs the role {' or '.join(sorted(wanted))}")
            request.state.principal = principal
            return principal

        _declare(dependency, wanted)
        return dependency

    def requires_ws(self, *roles: Role) -> Callable[..., Awaitable[Principal]]:
        """The WebSocket form: the token is the ``token`` query parameter. A refusal accepts the socket
        and closes it at once with 4401 (no valid session: the desk signs out) or 4403 (role missing),
        so the browser sees the reason (a refused handshake only shows as 1006)."""
        wanted = frozenset(roles) or frozenset(Role)

        async def dependency(websocket: WebSocket, token: str = Query(default="", max_length=256)) -> Principal:
            principal = await self.sessions.validate(token)
            if principal is None or not _allowed(principal, wanted):
                await websocket.accept()
                if principal is None:
                    raise WebSocketException(WS_UNAUTHORIZED, "invalid, expired or revoked session")
                raise WebSocketException(WS_FORBIDDEN, "role missing")
            return principal

        _declare(dependency, wanted)
        return dependency


def _declared_by(dependant: Any) -> str | frozenset[Role] | None:
    pending = list(getattr(dependant, "dependencies", ()))
    while pending:
        dep = pending.pop()
        declared = getattr(dep.call, ATTRIBUTE, None)
        if declared is not None:
            return declared  # type: ignore[no-any-return]
        pending.extend(dep.dependencies)
    return None


def declarations(app: Any) -> list[tuple[str, str | frozenset[Role] | None]]:
    """Every route of ``app`` (included routers flattened) with what it declares: ``"public"``, the
    roles it needs, or None if it declares nothing."""
    docs = {p for p in (app.openapi_url, app.docs_url, app.redoc_url, app.swagger_ui_oauth2_redirect_url) if p}
    found: list[tuple[str, str | frozenset[Role] | None]] = []
    for context in iter_route_contexts(app.routes):
        route: BaseRoute = context.original_route
        path = str(context.path or getattr(route, "path", repr(route)))
        declared: str | frozenset[Role] | None = None
        if isinstance(route, APIRoute | APIWebSocketRoute):
            declared = _declared_by(getattr(context, "dependant", None) or route.dependant)
        elif isinstance(route, Mount):
            declared = getattr(route.app, ATTRIBUTE, None)
        elif isinstance(route, Route) and path in docs:
            declared = PUBLIC  # FastAPI's own /docs, /redoc and /openapi.json
        found.append((path, declared))
    return found


def undeclared_routes(app: Any) -> list[str]:
    return [path for path, declared in declarations(app) if declared is None]
