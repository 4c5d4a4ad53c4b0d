"""An agent's QA results for a month, for other packages (qa.interface.QA_RESULTS)."""

from __future__ import annotations

from sqlalchemy import func, select

from hotline.db import Database
from qa.models import QaEvaluation, QaSample
from qa.schemas import AgentMonth, Purpose, Status


class Results:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def agent_month(self, agent: str, month: str) -> AgentMonth:
        reviews = (
            select(QaEvaluation.total, QaEvaluation.status)
            .join(QaSample, QaSample.id == QaEvaluation.sample_id)
            .where(QaSample.month == month, QaEvaluation.agent == agent, QaEvaluation.purpose == Purpose.review.value)
        )
        async with self.db.session() as s:
            sampled = (
                await s.execute(
                    select(func.count()).select_from(QaSample).where(QaSample.month == month, QaSample.agent == agent)
                )
            ).scalar_one()
            rows = (await s.execute(reviews)).all()
        totals = [t for t, _ in rows]
        return AgentMonth(
            agent=agent,
            month=month,
            sampled=sampled,
            reviewed=len(rows),
            average=round(sum(totals) / len(totals), 2) if totals else None,
            disputed=sum(1 for _, st in rows if st == Status.disputed.value),
        )
