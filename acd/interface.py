"""The ACD's service interface for other packages."""

from __future__ import annotations

from typing import Protocol

from hotline.plugins import ServiceKey


class QueueCatalog(Protocol):
    @property
    def default(self) -> str:
        """The queue a caller goes to when nothing else was decided."""
        ...

    def names(self) -> frozenset[str]: ...


QUEUES: ServiceKey[QueueCatalog] = ServiceKey("acd.queues")
