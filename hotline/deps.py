"""Helpers shared by every domain's routes: what the caller may see, as a SQL condition."""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Select, false, or_

from hotline.auth import Principal, Role

S = TypeVar("S", bound=Select[Any])


def visible_to(
    principal: Principal, agent_column: Any | None, queue_column: Any | None, agents_see_own: bool = True
) -> ColumnElement[bool] | None:
    """The rows ``principal`` may read, or None for all (admins): an agent's own rows (the agent
    column holds their extension, which is their username), a supervisor's queues' rows."""
    if principal.is_admin:
        return None
    conditions: list[ColumnElement[bool]] = []
    if agents_see_own and agent_column is not None and principal.has(Role.agent):
        conditions.append(agent_column == principal.username)
    if queue_column is not None and principal.has(Role.supervisor) and principal.supervised_queues:
        conditions.append(queue_column.in_(sorted(principal.supervised_queues)))
    return or_(*conditions) if conditions else false()


def scoped(
    stmt: S, principal: Principal, agent_column: Any | None, queue_column: Any | None, agents_see_own: bool = True
) -> S:
    """``stmt`` restricted to the rows ``principal`` may read (unchanged for admins)."""
    scope = visible_to(principal, agent_column, queue_column, agents_see_own)
    return stmt if scope is None else stmt.where(scope)
