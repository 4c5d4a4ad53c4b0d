"""CTI's service interface for other packages."""

from __future__ import annotations

from typing import Protocol

from hotline.plugins import ServiceKey


class DeskPresence(Protocol):
    def connected(self, agent: str) -> int:
        """How many desk connections the agent has open now."""
        ...


DESK_PRESENCE: ServiceKey[DeskPresence] = ServiceKey("cti.desk_presence")
