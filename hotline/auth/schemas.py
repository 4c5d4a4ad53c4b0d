"""API shapes of sign-in and user management."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import AliasChoices, BaseModel, Field, StringConstraints

from hotline.auth.roles import Role

USERNAME = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"
QUEUE_NAME = r"^[A-Za-z0-9_-]{1,80}$"
MIN_PASSWORD = 12
Queue = Annotated[str, StringConstraints(pattern=QUEUE_NAME)]


class SessionRequest(BaseModel):
    # ``extension`` is the name older desks sent; an agent's username is their extension
    username: str = Field(
        min_length=1, max_length=64, pattern=USERNAME, validation_alias=AliasChoices("username", "extension")
    )
    password: str = Field(min_length=1, max_length=200)


class PrincipalView(BaseModel):
    username: str
    display_name: str
    roles: list[Role]
    supervised_queues: list[str]
    expires_at: datetime


class SessionResponse(BaseModel):
    token: str
    user: PrincipalView


class UserView(BaseModel):
    model_config = {"from_attributes": True}

    username: str
    display_name: str
    roles: list[Role]
    supervised_queues: list[str]
    disabled: bool
    demo: bool
    created_at: datetime
    updated_at: datetime


class UserCreate(BaseModel):
    username: str = Field(pattern=USERNAME)
    display_name: str = Field(min_length=1, max_length=120)
    password: str = Field(min_length=MIN_PASSWORD, max_length=200)
    roles: list[Role] = Field(default_factory=list, max_length=3)
    supervised_queues: list[Queue] = Field(default_factory=list, max_length=100)


class UserUpdate(BaseModel):
    display_name: str | None = Field(default=None, min_length=1, max_length=120)
    roles: list[Role] | None = Field(default=None, max_length=3)
    supervised_queues: list[Queue] | None = Field(default=None, max_length=100)
    disabled: bool | None = None


class PasswordReset(BaseModel):
    password: str = Field(min_length=MIN_PASSWORD, max_length=200)


class SessionView(BaseModel):
    model_config = {"from_attributes": True}

    id: int
    roles: list[str]
    created_at: datetime
    expires_at: datetime
    last_seen_at: datetime
    address: str | None
    revoked_at: datetime | None


class Revoked(BaseModel):
    revoked: int
