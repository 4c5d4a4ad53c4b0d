"""Users, roles, passwords and server-side sessions: who is asking, and may they.

The core's part of authorization; it knows no domain. Domain routes declare what they need with
``Access.requires(Role.…)`` and scope what they return with ``Principal.sees``.
"""

from __future__ import annotations

from dataclasses import dataclass

from hotline.auth.access import Access, mark_public, public
from hotline.auth.passwords import Argon2Cost, Passwords
from hotline.auth.principal import Principal
from hotline.auth.ratelimit import LoginLimiter
from hotline.auth.roles import Role
from hotline.auth.service import Accounts
from hotline.auth.sessions import Sessions
from hotline.db import Database

__all__ = [
    "Access",
    "Accounts",
    "Argon2Cost",
    "Auth",
    "LoginLimiter",
    "Passwords",
    "Principal",
    "Role",
    "Sessions",
    "mark_public",
    "public",
]


@dataclass
class Auth:
    """The parts, built together: what the assembly hands to routers."""

    passwords: Passwords
    sessions: Sessions
    accounts: Accounts
    access: Access

    @classmethod
    def build(
        cls,
        db: Database,
        cost: Argon2Cost | None = None,
        session_ttl: float = 12 * 3600,
        limiter: LoginLimiter | None = None,
    ) -> Auth:
        passwords = Passwords(cost)
        sessions = Sessions(db, ttl=session_ttl)
        accounts = Accounts(db, passwords, sessions, limiter or LoginLimiter())
        return cls(passwords, sessions, accounts, Access(sessions))
