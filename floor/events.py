"""What the floor tells the rest of the system: thresholds crossed, and supervisors joining agents' calls."""

from __future__ import annotations

from datetime import datetime

from hotline.events import Event


class QueueAlertRaised(Event):
    """A queue crossed a threshold: its longest wait is above the maximum, or today's service level fell
    below the target."""

    queue: str
    kind: str  # longest_wait, service_level
    value: float
    threshold: float
    at: datetime


class QueueAlertCleared(Event):
    queue: str
    kind: str
    value: float
    threshold: float
    at: datetime


class AgentSupervised(Event):
    """A supervisor listened to, whispered to or barged into an agent's call, or forced their state."""

    supervisor: str  # username
    agent: str  # extension
    action: str  # listen, whisper, barge, pause, logout
    call_id: str | None = None
    at: datetime
