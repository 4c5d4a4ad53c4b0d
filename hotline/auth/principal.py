"""Who is asking: the user behind a validated session, and what they may see."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from hotline.auth.roles import Role


@dataclass(frozen=True)
class Principal:
    user_id: int
    username: str
    display_name: str
    roles: frozenset[Role]
    supervised_queues: frozenset[str]
    session_id: int
    token_hash: str
    created_at: datetime
    expires_at: datetime

    def has(self, role: Role) -> bool:
        return role in self.roles

    @property
    def is_admin(self) -> bool:
        return Role.admin in self.roles

    def sees(self, *, agent: str | None, queue: str | None, agent_allowed: bool = True) -> bool:
        """Whether a fact about ``agent`` in ``queue`` is visible: admins see all, agents their own
        (an agent's username is their extension), supervisors their queues."""
        if self.is_admin:
            return True
        if agent_allowed and self.has(Role.agent) and agent is not None and agent == self.username:
            return True
        return self.has(Role.supervisor) and queue is not None and queue in self.supervised_queues
