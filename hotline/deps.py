"""FastAPI dependencies shared by every domain's routes: who is calling."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import Header

from hotline.auth import read_token
from hotline.errors import Unauthorized


def bearer_agent(token_key: bytes) -> Callable[[str | None], str]:
    """A dependency returning the extension of the agent whose token is in ``Authorization``."""

    def dependency(authorization: str | None = Header(default=None)) -> str:
        if not authorization or not authorization.lower().startswith("bearer "):
            raise Unauthorized("log in first: Authorization: Bearer <token> from POST /api/session")
        claims = read_token(token_key, authorization[7:].strip())
        if claims is None:
            raise Unauthorized("invalid or expired token: log in again")
        return claims["sub"]

    return dependency
