"""Tier grading from shipment history.

The rule (bands in ``grading.yaml``, validated at load):

1. **Parcels** — the parcels a customer sent in the window, scaled to a 30-day month, pick the band:
   the highest whose ``min_parcels`` is reached (walk-in 1–3, regular 4–8, mid 9–15, VIP 16–30, key
   account over 30; no parcels at all is walk-in too).
2. **Revenue** lifts **one** band at most: if the monthly revenue reaches the ``min_revenue`` of the band
   just above, the customer gets that band (a customer sending few but costly parcels).
3. **Credit** caps: a customer rated ``watch`` or ``bad`` gets at most the tier of ``credit_caps``.
4. A tier set by hand by a supervisor (``tier_manual``) is kept: grading reports it and changes nothing
   until the override is lifted.

A pass over all customers walks the ids in chunks (keyset, ``chunk`` per transaction), asks the
shipments service for the chunk's volumes in one call, writes the changed tiers and their history rows
in bulk, commits, then publishes ``CustomerRegraded`` for each change. Each pass is a row of
``customer_grading_runs``; the schedule starts one when the last scheduled pass is ``every_days`` old.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Protocol, Self

import yaml
from pydantic import BaseModel, Field, model_validator
from sqlalchemy import insert, select, text, update

from crm_bridge.errors import CustomerNotFound, GradingBusy, NoShipmentHistory
from crm_bridge.events import CustomerRegraded
from crm_bridge.models import TIER_ORDER, CreditRating, Customer, GradeChange, GradingRun, Tier
from crm_bridge.schemas import GradeOutcome, GradingRunView
from hotline.bus import EventBus
from hotline.db import Database
from hotline.errors import first_line
from hotline.logs import get_logger

log = get_logger(__name__)
DEFAULT_RULES = Path(__file__).with_name("grading.yaml")
SCHEDULE = "schedule"
MONTH_DAYS = 30


class Band(BaseModel):
    tier: Tier
    min_parcels: int = Field(ge=0)
    min_revenue: Decimal | None = Field(None, ge=0)


class GradingRules(BaseModel):
    window_days: int = Field(30, ge=1, le=366)
    every_days: float = Field(30, gt=0)
    check_every_seconds: float = Field(3600, gt=0)
    chunk: int = Field(2000, ge=1, le=50_000)
    bands: list[Band]
    credit_caps: dict[CreditRating, Tier] = {}

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        tiers = tuple(b.tier for b in self.bands)
        if tiers != TIER_ORDER:
            raise ValueError(f"bands must name every tier once, lowest first: {[t.value for t in TIER_ORDER]}")
        if self.bands[0].min_parcels != 0:
            raise ValueError("the lowest band must start at 0 parcels")
        for low, high in zip(self.bands, self.bands[1:], strict=False):
            if high.min_parcels <= low.min_parcels:
                raise ValueError(f"min_parcels must rise: {high.tier} ({high.min_parcels}) after {low.tier}")
            if low.min_revenue is not None and high.min_revenue is not None and high.min_revenue <= low.min_revenue:
                raise ValueError(f"min_revenue must rise: {high.tier} after {low.tier}")
        return self

    @classmethod
    def load(cls, path: Path = DEFAULT_RULES) -> GradingRules:
        with path.open(encoding="utf-8") as f:
            return cls.model_validate(yaml.safe_load(f))

    def grade(self, parcels: int, revenue: Decimal, credit: CreditRating) -> tuple[Tier, str]:
        """The tier for a window's ``parcels`` and ``revenue``, and why (see the module's rule)."""
        days = Decimal(self.window_days)
        monthly = Decimal(parcels * MONTH_DAYS) / days  # multiplied first: 27 in 90 days is 9, not 8.999…
        monthly_revenue = (revenue * MONTH_DAYS / days).quantize(Decimal("0.01"))
        level = max(i for i, b in enumerate(self.bands) if monthly >= b.min_parcels)
        reasons = [f"{monthly.quantize(Decimal('0.1')).normalize():f} parcels/month: {self.bands[level].tier.value}"]
        if level + 1 < len(self.bands):
            above = self.bands[level + 1]
            if above.min_revenue is not None and monthly_revenue >= above.min_revenue:
                level += 1
                reasons.append(f"revenue {monthly_revenue}/month lifts to {above.tier.value}")
        cap = self.credit_caps.get(credit)
        if cap is not None and level > TIER_ORDER.index(cap):
            level = TIER_ORDER.index(cap)
            reasons.append(f"{credit.value} credit caps at {cap.value}")
        return self.bands[level].tier, "; ".join(reasons)


class Volume(Protocol):
    """A customer's shipments in a window (shipments' ``Volume``)."""

    @property
    def parcels(self) -> int: ...

    @property
    def revenue(self) -> Decimal: ...


# the shipments service's ``volumes`` (``SHIPMENTS.volumes``): customers absent from the answer sent nothing
VolumeSource = Callable[[Sequence[int], datetime, datetime], Awaitable[Mapping[int, Volume]]]


# one statement per chunk; a customer whose tier was set by hand or changed since it was read is left alone
_REGRADE = text(
    "UPDATE customers c SET tier = u.tier::customer_tier, updated_at = :now "
    "FROM unnest(CAST(:ids AS integer[]), CAST(:olds AS text[]), CAST(:tiers AS text[])) AS u(id, old, tier) "
    "WHERE c.id = u.id AND c.tier::text = u.old AND NOT c.tier_manual RETURNING c.id"
)


@dataclass(frozen=True)
class _Row:
    id: int
    tier: Tier
    manual: bool
    credit: CreditRating


class Grader:
    def __init__(
        self,
        db: Database,
        bus: EventBus,
        rules: GradingRules,
        clock: Callable[[], datetime],
        volumes: VolumeSource | None = None,
    ) -> None:
        self.db = db
        self.bus = bus
        self.rules = rules
        self.clock = clock
        self.volumes = volumes  # SHIPMENTS.volumes; None while no package provides shipment history
        self._pass = asyncio.Lock()
        self._task: asyncio.Task[GradingRunView] | None = None

    @property
    def ready(self) -> bool:
        """Whether there is shipment history to grade from (a source may say it has none yet)."""
        return self.volumes is not None and bool(getattr(self.volumes, "available", True))

    async def _volumes(self, ids: Sequence[int], since: datetime, until: datetime) -> Mapping[int, Volume]:
        if self.volumes is None:
            raise NoShipmentHistory("no shipment history to grade from: the shipments service is missing")
        return await self.volumes(ids, since, until)

    async def _grade_rows(self, rows: Sequence[_Row], by: str, now: datetime) -> tuple[list[GradeOutcome], int]:
        """Grades ``rows`` in one transaction; returns the outcomes and how many tiers changed."""
        since = now - timedelta(days=self.rules.window_days)
        volumes = await self._volumes([r.id for r in rows], since, now)
        outcomes: list[GradeOutcome] = []
        history: list[dict[str, object]] = []
        updates: list[dict[str, object]] = []
        events: list[CustomerRegraded] = []
        for row in rows:
            v = volumes.get(row.id)
            parcels, revenue = (v.parcels, Decimal(v.revenue)) if v is not None else (0, Decimal(0))
            tier, reason = self.rules.grade(parcels, revenue, row.credit)
            if row.manual:
                reason = f"kept by hand at {row.tier.value} (graded {tier.value}: {reason})"
                tier = row.tier
            changed = tier != row.tier
            outcomes.append(GradeOutcome(customer_id=row.id, old_tier=row.tier, tier=tier, changed=changed,
                                         manual=row.manual, reason=reason))  # fmt: skip
            if changed:
                updates.append({"id": row.id, "old": row.tier.value, "tier": tier.value})
                history.append({"customer_id": row.id, "old_tier": row.tier, "new_tier": tier, "reason": reason[:300],
                                "by": by, "parcels": parcels, "revenue": revenue, "at": now})  # fmt: skip
                events.append(CustomerRegraded(customer_id=row.id, old_tier=row.tier.value, new_tier=tier.value,
                                               reason=reason, by=by, at=now))  # fmt: skip
        if not updates:
            return outcomes, 0
        async with self.db.session() as s:
            done = set(
                (
                    await s.execute(
                        _REGRADE,
                        {
                            "ids": [u["id"] for u in updates],
                            "olds": [u["old"] for u in updates],
                            "tiers": [u["tier"] for u in updates],
                            "now": now,
                        },
                    )
                ).scalars()
            )
            history = [h for h in history if h["customer_id"] in done]
            if history:
                await s.execute(insert(GradeChange), history)
            await s.commit()
        for event in events:
            if event.customer_id in done:
                self.bus.publish(event)
        return outcomes, len(done)

    async def grade_one(self, customer_id: int, by: str) -> GradeOutcome:
        async with self.db.session() as s:
            c = await s.get(Customer, customer_id)
            if c is None:
                raise CustomerNotFound(f"no customer {customer_id}")
            row = _Row(c.id, c.tier, c.tier_manual, c.credit)
        outcomes, _ = await self._grade_rows([row], by, self.clock())
        return outcomes[0]

    async def grade_all(self, by: str) -> GradingRunView:
        """One pass over every customer, chunk by chunk; refused while another pass runs."""
        if self._pass.locked():
            raise GradingBusy("a grading pass is already running")
        async with self._pass:
            return await self._grade_all(by)

    async def _grade_all(self, by: str) -> GradingRunView:
        started = self.clock()
        if not self.ready:
            raise NoShipmentHistory("no shipment history to grade from: the shipments service is missing")
        async with self.db.session() as s:
            run = GradingRun(by=by, started_at=started, customers=0, changed=0)
            s.add(run)
            await s.commit()
            run_id = run.id
        seen = changed = 0
        error: str | None = None
        last = 0
        try:
            while True:
                async with self.db.session() as s:
                    stmt = (
                        select(Customer.id, Customer.tier, Customer.tier_manual, Customer.credit)
                        .where(Customer.id > last)
                        .order_by(Customer.id)
                        .limit(self.rules.chunk)
                    )
                    rows = [_Row(*r) for r in (await s.execute(stmt)).all()]
                if not rows:
                    break
                _, n = await self._grade_rows(rows, by, started)
                seen, changed, last = seen + len(rows), changed + n, rows[-1].id
        except Exception as e:
            error = first_line(e)[:300]
            log.warning("grading pass failed", by=by, error=error, customers=seen)
            raise
        finally:
            async with self.db.session() as s:
                await s.execute(
                    update(GradingRun)
                    .where(GradingRun.id == run_id)
                    .values(finished_at=self.clock(), customers=seen, changed=changed, error=error)
                )
                await s.commit()
        log.info("grading pass done", by=by, customers=seen, changed=changed)
        return await self.run(run_id)

    def start_all(self, by: str) -> None:
        """A pass in the background (an HTTP request does not wait for a million customers)."""
        if self._pass.locked() or (self._task is not None and not self._task.done()):
            raise GradingBusy("a grading pass is already running")
        if not self.ready:
            raise NoShipmentHistory("no shipment history to grade from: the shipments service is missing")
        self._task = asyncio.create_task(self.grade_all(by), name="crm_bridge.grade_all")
        self._task.add_done_callback(lambda t: t.cancelled() or t.exception())

    async def wait(self) -> None:
        """The background pass, finished (tests; stop)."""
        if self._task is not None:
            await asyncio.gather(self._task, return_exceptions=True)

    async def scheduled(self) -> None:
        """The schedule's step: a pass when the last scheduled one is ``every_days`` old (or never ran)."""
        if not self.ready or self._pass.locked():
            return
        async with self.db.session() as s:
            last = await s.scalar(
                select(GradingRun.started_at)
                .where(GradingRun.by == SCHEDULE, GradingRun.error.is_(None), GradingRun.finished_at.is_not(None))
                .order_by(GradingRun.started_at.desc())
                .limit(1)
            )
        if last is None or self.clock() - last >= timedelta(days=self.rules.every_days):
            await self.grade_all(SCHEDULE)

    async def run(self, run_id: int) -> GradingRunView:
        async with self.db.session() as s:
            return GradingRunView.model_validate(await s.get(GradingRun, run_id))

    async def runs(self, limit: int = 20) -> list[GradingRunView]:
        async with self.db.session() as s:
            rows = await s.execute(select(GradingRun).order_by(GradingRun.id.desc()).limit(limit))
            return [GradingRunView.model_validate(r) for r in rows.scalars()]

    async def override(self, customer_id: int, tier: Tier | None, reason: str, by: str) -> GradeOutcome:
        """A supervisor's tier, kept until lifted (``tier=None`` lifts it and grades again); recorded."""
        now = self.clock()
        async with self.db.session() as s:
            c = await s.get(Customer, customer_id, with_for_update=True)
            if c is None:
                raise CustomerNotFound(f"no customer {customer_id}")
            old = c.tier
            if tier is None:
                c.tier_manual = False
                await s.commit()
                row = _Row(c.id, c.tier, False, c.credit)
            else:
                c.tier, c.tier_manual, c.updated_at = tier, True, now
                s.add(GradeChange(customer_id=c.id, old_tier=old, new_tier=tier, reason=f"set by hand: {reason}"[:300],
                                  by=by, manual=True, at=now))  # fmt: skip
                await s.commit()
        if tier is None:
            return await self._lifted(row, reason, by)
        self.bus.publish(CustomerRegraded(customer_id=customer_id, old_tier=old.value, new_tier=tier.value,
                                          reason=f"set by hand: {reason}", by=by, manual=True, at=now))  # fmt: skip
        return GradeOutcome(customer_id=customer_id, old_tier=old, tier=tier, changed=old != tier, manual=True,
                            reason=f"set by hand: {reason}")  # fmt: skip

    async def _lifted(self, row: _Row, reason: str, by: str) -> GradeOutcome:
        if not self.ready:  # nothing to grade from: the tier stays as it was, no longer kept
            return GradeOutcome(customer_id=row.id, old_tier=row.tier, tier=row.tier, changed=False, manual=False,
                                reason=f"override lifted: {reason}")  # fmt: skip
        outcomes, _ = await self._grade_rows([row], by, self.clock())
        return outcomes[0]
