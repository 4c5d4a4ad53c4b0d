"""A queue's live load for other packages (``QUEUE_LOAD``): callers waiting, the longest wait, agents
logged in and available, and the wait a caller joining now should expect.

The figures are Asterisk's (AMI ``QueueSummary``: one round trip, nothing stored). The expected wait is the
usual estimate: nobody waits while more agents are free than callers wait; otherwise the callers ahead
(the waiting ones less the free agents, plus the new caller) are served by the logged-in agents one
average talk time each (Asterisk's own average; ``default_talk_s`` until the queue has answered a call).
"""

from __future__ import annotations

from typing import Any, Protocol

from acd.interface import QueueLoad
from hotline.ami import AmiActionError

DEFAULT_TALK_S = 180.0


class Ami(Protocol):
    async def action(self, name: str, as_list: bool = False, **fields: Any) -> dict[str, Any]: ...


def expected_wait(waiting: int, logged_in: int, available: int, talk_s: float) -> float | None:
    """Seconds a caller joining now should expect to wait (None: nobody logged in to answer)."""
    if available > waiting:
        return 0.0
    if logged_in <= 0:
        return None
    ahead = waiting - available + 1
    return ahead * talk_s / logged_in


def _number(event: dict[str, Any], field: str) -> float:
    try:
        return float(event.get(field) or 0)
    except ValueError:
        return 0.0


class QueueLoadService:
    def __init__(self, ami: Ami, default_talk_s: float = DEFAULT_TALK_S) -> None:
        self.ami = ami
        self.default_talk_s = default_talk_s

    async def load(self, queue: str) -> QueueLoad:
        reply = await self.ami.action("QueueSummary", as_list=True, Queue=queue)
        summary = next((e for e in reply.get("events", []) if e.get("Event") == "QueueSummary"), None)
        if summary is None or summary.get("Queue") != queue:
            raise AmiActionError("QueueSummary", f"no summary for queue {queue!r}")
        waiting = int(_number(summary, "Callers"))
        logged_in = int(_number(summary, "LoggedIn"))
        available = int(_number(summary, "Available"))
        talk = _number(summary, "TalkTime") or self.default_talk_s
        return QueueLoad(
            queue=queue,
            waiting=waiting,
            longest_wait_s=_number(summary, "LongestHoldTime"),
            agents_logged_in=logged_in,
            agents_available=available,
            expected_wait_s=expected_wait(waiting, logged_in, available, talk),
        )
