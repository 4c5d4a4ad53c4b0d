from __future__ import annotations

from hotline.errors import Conflict, Forbidden, NotFound


class AgentNotVisible(Forbidden):
    """The agent is in none of the queues the supervisor supervises."""


class UnknownAgent(NotFound):
    pass


class NotOnCall(Conflict):
    pass


class NoSupervisorPhone(Conflict):
    pass
