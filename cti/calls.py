"""A call as the contact center sees it, from the IVR to the hangup."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from crm_bridge.schemas import CustomerCard


def now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Call:
    uniqueid: str
    caller: str | None = None
    dialed: str | None = None
    channel: str | None = None
    started_at: datetime = field(default_factory=now)
    customer: CustomerCard | None = None
    lookup_failed: bool = False
    ivr_path: str | None = None
    intent: str | None = None
    queue: str | None = None
    priority: int = 0
    queued_at: datetime | None = None
    ringing_agent: str | None = None
    answered_at: datetime | None = None
    agent: str | None = None
    ended_at: datetime | None = None
    wait_seconds: float | None = None
    talk_seconds: float | None = None
    outcome: str | None = None
    history: list[dict[str, Any]] = field(default_factory=list)  # the customer's recent contacts

    def final_outcome(self) -> str:
        if self.outcome:
            return self.outcome
        if self.answered_at:
            return "answered"
        if self.queued_at:
            return "abandoned"
        return "ivr_hangup"

    def snapshot(self) -> dict[str, Any]:
        return {
            "call_id": self.uniqueid,
            "priority": self.priority,
            "caller": self.caller,
            "dialed": self.dialed,
            "customer_id": self.customer.id if self.customer else None,
            "ivr_path": self.ivr_path,
            "intent": self.intent,
            "queue": self.queue,
            "agent": self.agent,
            "started_at": self.started_at,
            "queued_at": self.queued_at,
            "answered_at": self.answered_at,
            "ended_at": self.ended_at,
            "wait_seconds": self.wait_seconds,
            "talk_seconds": self.talk_seconds,
            "outcome": self.final_outcome(),
        }


def extension_of(interface: str | None) -> str | None:
    """'PJSIP/1001' or 'PJSIP/1001-0000002a' → '1001'."""
    if not interface or "/" not in interface:
        return None
    return interface.split("/", 1)[1].split("-", 1)[0] or None
