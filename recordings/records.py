"""The typed record of one recording's metadata, as kept in the outbox until the database has it."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel


class Pause(BaseModel):
    """The desk paused the recording (silence in the file) from ``start`` to ``end`` seconds of it."""

    start: float
    end: float | None = None  # None: still paused when the call ended (then: to the end)
    by: str | None = None


class RecordingRecord(BaseModel):
    call_id: str  # the call's linkedid (the recording file is named after it)
    path: str  # relative to the recordings directory
    agent: str | None = None
    queue: str | None = None
    customer_id: int | None = None
    duration_seconds: float
    size_bytes: int
    sha256: str
    format: str = "wav"
    policy: str | None = None
    legs: list[dict[str, Any]] = []
    pauses: list[dict[str, Any]] = []
