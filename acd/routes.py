"""Agents' REST API: each agent's own queue log-in/out and pause; the agents list for supervisors."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import APIRouter, Depends

from acd.models import Agent
from acd.provisioning import create_agent
from acd.schemas import AgentCreate, AgentCreated, AgentView, PauseRequest
from acd.service import AgentService
from hotline.auth import Access, Principal, Role


def build_router(agents: AgentService, access: Access, desks_open: Callable[[str], int] = lambda _: 0) -> APIRouter:
    router = APIRouter(prefix="/api", tags=["agents"])
    agent = Depends(access.requires(Role.agent))
    supervisor = Depends(access.requires(Role.supervisor))
    admin = Depends(access.requires(Role.admin))

    def view(a: Agent) -> AgentView:
        return agents.view(a, desk_connected=desks_open(a.extension) > 0)

    @router.get(
        "/agents",
        response_model=list[AgentView],
        summary="The agents of the queues the caller supervises (admins: all)",
    )
    async def list_agents(me: Principal = supervisor) -> list[AgentView]:
        if not me.sees(agent=None, queue=agents.queue):
            return []
        return [view(a) for a in await agents.all()]

    @router.post(
        "/agents",
        response_model=AgentCreated,
        status_code=201,
        summary="Give a user with the agent role a phone: extension = username, generated SIP password",
    )
    async def add_agent(body: AgentCreate, _: Principal = admin) -> AgentCreated:
        created, sip_password = await create_agent(agents.db, body.username)
        return AgentCreated(agent=view(created), sip_password=sip_password)

    # an agent's username is their extension: "me" is the agent whose extension that is
    @router.get("/agents/me", response_model=AgentView)
    async def get_me(me: Principal = agent) -> AgentView:
        return view(await agents.get(me.username))

    @router.post("/agents/me/login", response_model=AgentView, summary="Join the queue, available")
    async def queue_login(me: Principal = agent) -> AgentView:
        return view(await agents.login(me.username))

    @router.post("/agents/me/logout", response_model=AgentView, summary="Leave the queue")
    async def queue_logout(me: Principal = agent) -> AgentView:
        return view(await agents.logout(me.username))

    @router.post("/agents/me/pause", response_model=AgentView, summary="Stop receiving calls, with a reason")
    async def pause(body: PauseRequest, me: Principal = agent) -> AgentView:
        return view(await agents.pause(me.username, body.reason))

    @router.post("/agents/me/unpause", response_model=AgentView, summary="Receive calls again")
    async def unpause(me: Principal = agent) -> AgentView:
        return view(await agents.unpause(me.username))

    return router
