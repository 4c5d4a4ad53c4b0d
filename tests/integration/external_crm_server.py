"""A small external CRM for the adapter's tests: a real HTTP server (Starlette under uvicorn) on 127.0.0.1
that can be slowed, made to fail, stopped and started again on the same port."""

from __future__ import annotations

import asyncio
import json
import socket
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

TOKEN = "crm-test-token"


class FakeCrm:
    def __init__(self) -> None:
        self.customers: dict[str, dict[str, Any]] = {}
        self.delay = 0.0
        self.failing = False  # every request answers 503
        self.post_budget: int | None = None  # after this many accepted writes, 503 until set to None
        self.lookups = 0
        self.posts = 0  # write requests that reached the handler
        self.received: dict[str, dict[str, Any]] = {}  # idempotency key → body, first one kept
        self.repeats = 0
        self.port = 0
        self._server: uvicorn.Server | None = None
        self._task: asyncio.Task[None] | None = None
        self.app = Starlette(
            routes=[
                Route("/v1/customers/lookup", self._lookup, methods=["GET"]),
                Route("/v1/interactions", self._write, methods=["POST"]),
                Route("/v1/work-orders", self._write, methods=["POST"]),
            ]
        )

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def _refused(self, request: Request) -> Response | None:
        if request.headers.get("authorization") != f"Bearer {TOKEN}":
            return JSONResponse({"error": "unauthorized"}, status_code=401)
        if self.failing:
            return JSONResponse({"error": "down for maintenance"}, status_code=503)
        return None

    async def _lookup(self, request: Request) -> Response:
        self.lookups += 1
        if self.delay:
            await asyncio.sleep(self.delay)
        refused = self._refused(request)
        if refused is not None:
            return refused
        customer = self.customers.get(request.query_params.get("phone", ""))
        return JSONResponse(customer) if customer else JSONResponse({"error": "not found"}, status_code=404)

    async def _write(self, request: Request) -> Response:
        self.posts += 1
        refused = self._refused(request)
        if refused is not None:
            return refused
        if self.post_budget is not None:
            if self.post_budget <= 0:
                return JSONResponse({"error": "overloaded"}, status_code=503)
            self.post_budget -= 1
        body = json.loads(await request.body())
        key = request.headers.get("idempotency-key", "")
        if body.get("call_id") == "unreadable" or body.get("idempotency_key") != key:
            return JSONResponse({"error": "rejected"}, status_code=422)
        if key in self.received:
            self.repeats += 1
            return JSONResponse({"status": "already had it"}, status_code=200)
        self.received[key] = body
        return JSONResponse({"status": "created"}, status_code=201)

    def reserve_port(self) -> None:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = int(s.getsockname()[1])

    async def start(self) -> None:
        if not self.port:
            self.reserve_port()
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        # inherited by accepted connections; uvicorn sets it only on sockets it opens itself (without it,
        # headers and body in two writes meet the client's delayed ACK: 40 ms a request)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.bind(("127.0.0.1", self.port))
        config = uvicorn.Config(
            self.app, lifespan="off", log_config=None, access_log=False, timeout_graceful_shutdown=1
        )
        self._server = uvicorn.Server(config)
        self._task = asyncio.create_task(self._server.serve(sockets=[sock]))
        async with asyncio.timeout(5):
            while not self._server.started:  # noqa: ASYNC110 - uvicorn offers no event for this
                await asyncio.sleep(0.01)

    async def stop(self) -> None:
        if self._server is not None and self._task is not None:
            self._server.should_exit = True
            await self._task
            self._server = self._task = None
