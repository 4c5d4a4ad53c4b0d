"""Agents' REST API: each agent's own queue log-in/out and pause; the agents list for supervisors."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Body, Depends

from acd.callbacks import CallbackService
from acd.decisions import DecisionRecord, decisions_of
from acd.floor import Floor
from acd.interface import CallbackRequest, CallbackView
from acd.models import Agent
from acd.provisioning import create_agent
from acd.rules import RoutingRules
from acd.schemas import AgentCreate, AgentCreated, AgentView, DispositionIn, DispositionOut, LoginRequest, PauseRequest
from acd.service import AgentService
from hotline.auth import Access, Principal, Role
from hotline.db import Database


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

    @router.post(
        "/agents/me/login",
        response_model=AgentView,
        summary="Join queues (all, or those named), available; again to change the queues",
    )
    async def queue_login(body: LoginRequest | None = Body(None), me: Principal = agent) -> AgentView:
        return view(await agents.login(me.username, body.queues if body else None))

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


def build_routing_router(
    rules: RoutingRules, floor: Floor, callbacks: CallbackService, db: Database, access: Access
) -> APIRouter:
    """Routing configuration and decisions (supervisors), callbacks and dispositions (agents)."""
    router = APIRouter(prefix="/api", tags=["routing"])
    agent = Depends(access.requires(Role.agent))
    supervisor = Depends(access.requires(Role.supervisor))
    staff = Depends(access.requires(Role.agent, Role.supervisor))

    @router.get("/routing/config", summary="The routing rules in force (acd/routing.yaml, validated)")
    async def routing_config(_: Principal = supervisor) -> dict[str, Any]:
        return rules.model_dump(mode="json")

    @router.get(
        "/calls/{call_id}/routing",
        response_model=list[DecisionRecord],
        summary="The routing decisions of a call, with their reasons",
    )
    async def call_routing(call_id: str, _: Principal = supervisor) -> list[DecisionRecord]:
        return await decisions_of(db, call_id)

    @router.get("/callbacks", response_model=list[CallbackView], summary="Callbacks waiting or under way")
    async def list_callbacks(_: Principal = staff) -> list[CallbackView]:
        return await callbacks.open_list()

    @router.post(
        "/callbacks",
        response_model=CallbackView,
        status_code=201,
        summary="Promise a customer a callback: it waits in the queue at its place, then an agent is rung first",
    )
    async def request_callback(body: CallbackRequest, _: Principal = staff) -> CallbackView:
        return await callbacks.request(body)

    @router.post(
        "/callbacks/{callback_id}/dial",
        response_model=CallbackView,
        summary="Call this customer back now: your phone rings first, then theirs",
    )
    async def dial_callback(callback_id: int, me: Principal = agent) -> CallbackView:
        return await callbacks.click_to_dial(callback_id, me.username)

    @router.post(
        "/agents/me/disposition",
        response_model=DispositionOut,
        summary="Close the last call's after-call work with a disposition (ends the wrap-up)",
    )
    async def disposition(body: DispositionIn, me: Principal = agent) -> DispositionOut:
        record = await floor.dispose(me.username, body.code, body.note, body.call_id)
        live = floor.agents.live.get(me.username)
        return DispositionOut(
            agent=me.username,
            call_id=record.call_id,
            code=record.code,
            at=record.at,
            state=live.state.value if live else "logged_out",
        )

    return router
