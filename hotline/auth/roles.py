"""The roles a user may hold (several at once)."""

from __future__ import annotations

import enum


class Role(enum.StrEnum):
    agent = "agent"  # takes calls: their own pops, state, interactions and (if allowed) recordings
    supervisor = "supervisor"  # reads what happens in the queues they supervise
    admin = "admin"  # everything, and manages users
