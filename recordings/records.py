"""The typed record of one recording's metadata, as kept in the outbox until the database has it."""

from __future__ import annotations

from pydantic import BaseModel


class RecordingRecord(BaseModel):
    call_id: str  # the call's linkedid (the recording file is named after it)
    path: str  # relative to the recordings directory
    agent: str | None = None
    queue: str | None = None
    customer_id: int | None = None
    duration_seconds: float
    size_bytes: int
    sha256: str
