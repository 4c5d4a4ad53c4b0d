"""The recordings' service interface for other packages (quality assurance samples recorded calls)."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from pydantic import BaseModel

from hotline.plugins import ServiceKey


class RecordedCall(BaseModel):
    recording_id: int
    call_id: str
    agent: str | None
    queue: str | None
    customer_id: int | None
    started_at: datetime  # the recording's created_at if nothing better
    duration_seconds: float


class RecordedCalls(Protocol):
    async def recorded_calls(self, since: datetime, until: datetime, agent: str | None = None) -> list[RecordedCall]:
        """Recordings still on disk (not purged), created in [since, until), oldest first."""
        ...

    async def get(self, recording_id: int) -> RecordedCall | None: ...


RECORDINGS: ServiceKey[RecordedCalls] = ServiceKey("recordings.recorded_calls")
