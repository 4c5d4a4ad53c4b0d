"""Sign-in, sign-out and user management (admins)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Path, Request

from hotline.auth.access import Access, public
from hotline.auth.principal import Principal
from hotline.auth.roles import Role
from hotline.auth.schemas import (
    USERNAME,
    PasswordReset,
    PrincipalView,
    Revoked,
    SessionRequest,
    SessionResponse,
    SessionView,
    UserCreate,
    UserUpdate,
    UserView,
)
from hotline.auth.service import Accounts


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def principal_view(p: Principal) -> PrincipalView:
    return PrincipalView(
        username=p.username,
        display_name=p.display_name,
        roles=sorted(p.roles),
        supervised_queues=sorted(p.supervised_queues),
        expires_at=p.expires_at,
    )


def build_router(accounts: Accounts, access: Access) -> APIRouter:
    router = APIRouter(prefix="/api", tags=["sessions and users"])
    signed_in = Depends(access.requires())
    admin = Depends(access.requires(Role.admin))
    Username = Path(pattern=USERNAME, max_length=64)

    @router.post(
        "/session",
        response_model=SessionResponse,
        dependencies=[Depends(public)],
        summary="Sign in: a bearer token (429 with Retry-After after too many failures)",
    )
    async def create_session(body: SessionRequest, request: Request) -> SessionResponse:
        token, principal = await accounts.login(body.username, body.password, client_address(request))
        return SessionResponse(token=token, user=principal_view(principal))

    @router.get("/session", response_model=PrincipalView, summary="Who is signed in")
    async def whoami(me: Principal = signed_in) -> PrincipalView:
        return principal_view(me)

    @router.delete("/session", status_code=204, summary="Sign out: the token stops working at once")
    async def delete_session(me: Principal = signed_in) -> None:
        await accounts.logout(me)

    @router.get("/users", response_model=list[UserView])
    async def list_users(_: Principal = admin) -> list[UserView]:
        return [UserView.model_validate(u) for u in await accounts.users()]

    @router.post("/users", response_model=UserView, status_code=201)
    async def create_user(body: UserCreate, _: Principal = admin) -> UserView:
        user = await accounts.create(
            body.username, body.display_name, body.password, body.roles, body.supervised_queues
        )
        return UserView.model_validate(user)

    @router.get("/users/{username}", response_model=UserView)
    async def get_user(username: str = Username, _: Principal = admin) -> UserView:
        return UserView.model_validate(await accounts.get(username))

    @router.patch(
        "/users/{username}",
        response_model=UserView,
        summary="Change a user; roles, queues or disabling sign all their sessions out",
    )
    async def update_user(body: UserUpdate, username: str = Username, _: Principal = admin) -> UserView:
        user = await accounts.update(username, body.display_name, body.roles, body.supervised_queues, body.disabled)
        return UserView.model_validate(user)

    @router.put("/users/{username}/password", status_code=204, summary="Reset a password (signs the user out)")
    async def reset_password(body: PasswordReset, username: str = Username, _: Principal = admin) -> None:
        await accounts.reset_password(username, body.password)

    @router.get("/users/{username}/sessions", response_model=list[SessionView])
    async def list_sessions(username: str = Username, _: Principal = admin) -> list[SessionView]:
        return [SessionView.model_validate(s) for s in await accounts.sessions_of(username)]

    @router.delete("/users/{username}/sessions", response_model=Revoked, summary="Sign a user out everywhere")
    async def revoke_sessions(username: str = Username, _: Principal = admin) -> Revoked:
        return Revoked(revoked=await accounts.revoke(username))

    return router
