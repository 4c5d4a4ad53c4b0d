"""Scoring forms: published by admins as immutable versions, retired when no longer to be used."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.bus import EventBus
from hotline.db import Database
from qa.errors import FormNotFound
from qa.events import QaFormPublished
from qa.models import QaCriterion, QaForm
from qa.schemas import CriterionView, FormIn, FormView
from qa.scoring import CriterionRule


def form_view(form: QaForm, criteria: Iterable[QaCriterion]) -> FormView:
    return FormView(
        id=form.id,
        name=form.name,
        version=form.version,
        title=form.title,
        description=form.description,
        created_by=form.created_by,
        created_at=form.created_at,
        retired_at=form.retired_at,
        criteria=[CriterionView.model_validate(c) for c in sorted(criteria, key=lambda c: c.position)],
    )


def rules(criteria: Iterable[QaCriterion]) -> list[CriterionRule]:
    return [CriterionRule(c.key, c.weight, c.max_score, c.critical, c.allow_na) for c in criteria]


async def criteria_of(s: AsyncSession, form_ids: Iterable[int]) -> dict[int, list[QaCriterion]]:
    ids = sorted(set(form_ids))
    found: dict[int, list[QaCriterion]] = {i: [] for i in ids}
    if ids:
        stmt = select(QaCriterion).where(QaCriterion.form_id.in_(ids)).order_by(QaCriterion.position)
        for c in (await s.execute(stmt)).scalars():
            found[c.form_id].append(c)
    return found


async def add_form(s: AsyncSession, body: FormIn, by: str, at: datetime) -> QaForm:
    """The next version of ``body.name`` (1 for a new name), added to ``s`` (not committed)."""
    last = (await s.execute(select(func.max(QaForm.version)).where(QaForm.name == body.name))).scalar()
    form = QaForm(
        name=body.name,
        version=(last or 0) + 1,
        title=body.title,
        description=body.description,
        created_by=by,
        created_at=at,
    )
    s.add(form)
    await s.flush()
    for position, c in enumerate(body.criteria):
        s.add(QaCriterion(form_id=form.id, position=position, **c.model_dump()))
    await s.flush()
    return form


class FormBook:
    def __init__(self, db: Database, bus: EventBus, clock: Callable[[], datetime]) -> None:
        self.db = db
        self.bus = bus
        self.clock = clock

    async def publish(self, body: FormIn, by: str) -> FormView:
        now = self.clock()
        async with self.db.session() as s:
            # one publisher of a name at a time, so two admins cannot both take the same version
            await s.execute(select(func.pg_advisory_xact_lock(func.hashtext("qa-form:" + body.name))))
            form = await add_form(s, body, by, now)
            criteria = (await criteria_of(s, [form.id]))[form.id]
            view = form_view(form, criteria)
            await s.commit()
        self.bus.publish(QaFormPublished(form_id=view.id, name=view.name, version=view.version, by=by, at=now))
        return view

    async def list(self, include_retired: bool = False) -> list[FormView]:
        stmt = select(QaForm).order_by(QaForm.name, QaForm.version.desc())
        if not include_retired:
            stmt = stmt.where(QaForm.retired_at.is_(None))
        async with self.db.session() as s:
            forms = list((await s.execute(stmt)).scalars())
            criteria = await criteria_of(s, [f.id for f in forms])
        return [form_view(f, criteria[f.id]) for f in forms]

    async def get(self, form_id: int) -> FormView:
        async with self.db.session() as s:
            form = await s.get(QaForm, form_id)
            if form is None:
                raise FormNotFound(f"no QA form {form_id}")
            return form_view(form, (await criteria_of(s, [form_id]))[form_id])

    async def retire(self, form_id: int) -> FormView:
        async with self.db.session() as s:
            form = await s.get(QaForm, form_id, with_for_update=True)
            if form is None:
                raise FormNotFound(f"no QA form {form_id}")
            if form.retired_at is None:
                form.retired_at = self.clock()
            view = form_view(form, (await criteria_of(s, [form_id]))[form_id])
            await s.commit()
        return view
