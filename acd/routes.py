"""Agents' REST API: desk log-in, queue log-in/out and pause."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import APIRouter, Depends

from acd.models import Agent
from acd.schemas import AgentView, PauseRequest, SessionRequest, SessionResponse
from acd.service import AgentService
from hotline.auth import issue_token
from hotline.deps import bearer_agent
from hotline.errors import Unauthorized


def build_router(agents: AgentService, token_key: bytes, desks_open: Callable[[str], int] = lambda _: 0) -> APIRouter:
    router = APIRouter(prefix="/api", tags=["agents"])
    me = Depends(bearer_agent(token_key))

    def view(agent: Agent) -> AgentView:
        return agents.view(agent, desk_connected=desks_open(agent.extension) > 0)

    @router.post("/session", response_model=SessionResponse, summary="Desk log-in: returns a bearer token")
    async def create_session(body: SessionRequest) -> SessionResponse:
        agent = await agents.authenticate(body.extension, body.password)
        if agent is None:
            raise Unauthorized("wrong extension or password")
        return SessionResponse(token=issue_token(token_key, agent.extension), agent=view(agent))

    @router.get("/agents", response_model=list[AgentView], summary="All agents and their states")
    async def list_agents(_: str = me) -> list[AgentView]:
        return [view(a) for a in await agents.all()]

    @router.get("/agents/me", response_model=AgentView)
    async def get_me(extension: str = me) -> AgentView:
        return view(await agents.get(extension))

    @router.post("/agents/me/login", response_model=AgentView, summary="Join the queue, available")
    async def queue_login(extension: str = me) -> AgentView:
        return view(await agents.login(extension))

    @router.post("/agents/me/logout", response_model=AgentView, summary="Leave the queue")
    async def queue_logout(extension: str = me) -> AgentView:
        return view(await agents.logout(extension))

    @router.post("/agents/me/pause", response_model=AgentView, summary="Stop receiving calls, with a reason")
    async def pause(body: PauseRequest, extension: str = me) -> AgentView:
        return view(await agents.pause(extension, body.reason))

    @router.post("/agents/me/unpause", response_model=AgentView, summary="Receive calls again")
    async def unpause(extension: str = me) -> AgentView:
        return view(await agents.unpause(extension))

    return router
