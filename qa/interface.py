"""Quality assurance's service interface for other packages (reports, the desk)."""

from __future__ import annotations

from typing import Protocol

from hotline.plugins import ServiceKey
from qa.schemas import AgentMonth


class QaResults(Protocol):
    async def agent_month(self, agent: str, month: str) -> AgentMonth:
        """``agent``'s QA month (``month``: YYYY-MM): calls sampled and reviewed, average review total,
        reviews still disputed."""
        ...


QA_RESULTS: ServiceKey[QaResults] = ServiceKey("qa.results")
