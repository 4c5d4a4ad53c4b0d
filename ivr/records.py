"""Node visits and survey answers, kept durably through the core outbox and stored exactly once
(idempotent inserts on their natural keys: a call's visit number, a call's survey)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from pydantic import BaseModel
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.columns import fit_row
from hotline.db import table_of
from hotline.logs import get_logger
from hotline.outbox import Outbox
from ivr.models import NodeVisit, SurveyAnswer

log = get_logger(__name__)

VISIT = "ivr_visit"
SURVEY = "ivr_survey"


class VisitRecord(BaseModel):
    call_id: str
    seq: int
    menu_version: str
    node: str
    kind: str
    language: str | None = None
    input: str | None = None
    result: str
    duration_ms: int
    at: datetime


class SurveyRecord(BaseModel):
    call_id: str
    agent: str | None = None
    score: int
    at: datetime


# built once (Core, not the ORM's bulk path): a batch is one executemany of a cached statement
_VISITS = pg_insert(table_of(NodeVisit)).on_conflict_do_nothing(index_elements=["call_id", "seq"])
_survey = pg_insert(table_of(SurveyAnswer))
_SURVEYS = _survey.on_conflict_do_update(
    index_elements=["call_id"], set_={"score": _survey.excluded.score, "agent": _survey.excluded.agent}
)


async def store_visits(session: AsyncSession, records: list[VisitRecord]) -> None:
    await session.execute(_VISITS, [fit_row(table_of(NodeVisit), r.model_dump()) for r in records])


async def store_surveys(session: AsyncSession, records: list[SurveyRecord]) -> None:
    rows = list({r.call_id: fit_row(table_of(SurveyAnswer), r.model_dump()) for r in records}.values())
    await session.execute(_SURVEYS, rows)


class Journal:
    """Where the engine writes what happened; a failure to write never stops a call."""

    def __init__(self, outbox: Outbox | None) -> None:
        self.outbox = outbox
        self.failures = 0
        if outbox is not None:
            outbox.register(VISIT, VisitRecord, store_visits)
            outbox.register(SURVEY, SurveyRecord, store_surveys)

    async def keep_visits(self, records: list[VisitRecord]) -> None:
        """Several visits kept at once: one local commit for all of them."""
        await self._put(VISIT, records)

    async def survey(self, record: SurveyRecord) -> None:
        await self._put(SURVEY, [record])

    async def _put(self, kind: str, records: Sequence[BaseModel]) -> None:
        if self.outbox is None or not records:
            return
        try:
            await self.outbox.put_many(kind, records)
        except Exception as e:
            self.failures += len(records)
            log.error("IVR records not kept", kind=kind, records=len(records), error=repr(e))
