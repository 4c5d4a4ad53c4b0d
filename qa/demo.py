"""Demo QA (demo mode only): the courier-call scoring form. Its criteria are what the seed's account of a
courier's call center (FedEx's Clarify CRM desk, seed 004) asks of an agent on each kind of call: the caller
found from their number and never made to repeat their problem, a pickup taken down with every detail, the
destination's customs rules and documents recalled, a tracked parcel's exception handed to the colleague who
handles it with the exchange noted, every complaint or praise recorded truthfully and passed on, and the
manner trained for dealing with customers. Recording a complaint or praise falsely, or not at all, is the
critical failure."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.auth import Passwords
from qa.models import QaForm
from qa.schemas import CriterionIn, FormIn
from qa.services.forms import add_form

DEMO_FORM = FormIn(
    name="courier-call",
    title="Courier call quality",
    description="Scored 0–5 per criterion (feedback recorded: pass 1 / fail 0, critical). Weights sum to 100.",
    criteria=[
        CriterionIn(
            key="identification",
            label="Greets, finds the caller's record from the number and confirms who is calling",
            guidance="The account locked from the caller's number; name and number confirmed.",
            weight=10,
        ),
        CriterionIn(
            key="no_repetition",
            label="Uses the caller's history and open issues: the caller never repeats their problem",
            guidance="Past contacts and unfinished issues read from the record, their progress given.",
            weight=15,
        ),
        CriterionIn(
            key="pickup_details",
            label="Pickup taken down complete: name, phone, full address, pieces, weight, goods, destination, "
            "ready time, closing time, other needs",
            guidance="Not applicable when the call books no pickup.",
            weight=20,
            allow_na=True,
        ),
        CriterionIn(
            key="customs_reminder",
            label="Reminds the caller of the destination's customs rules and the documents to prepare",
            guidance="For goods that need it (international shipments); not applicable otherwise.",
            weight=10,
            allow_na=True,
        ),
        CriterionIn(
            key="exception_handling",
            label="Tracks the parcel; on an exception (customs delay, late delivery, misroute, damage, loss) "
            "contacts the colleague handling it and notes the exchange and the outcome",
            guidance="Not applicable when the call is about no parcel.",
            weight=20,
            allow_na=True,
        ),
        CriterionIn(
            key="courtesy",
            label="Courtesy and skill with the customer: listens, explains clearly, closes the call properly",
            weight=15,
        ),
        CriterionIn(
            key="feedback_recorded",
            label="Every complaint or praise recorded truthfully and passed to the department (or resolved and "
            "the result given)",
            guidance="Critical: 0 (not recorded, or recorded falsely) makes the whole call worth 0.",
            weight=10,
            max_score=1,
            critical=True,
        ),
    ],
)


async def load(session: AsyncSession, passwords: Passwords) -> None:
    present = (await session.execute(select(QaForm.id).where(QaForm.name == DEMO_FORM.name))).first()
    if present is None:
        await add_form(session, DEMO_FORM, "demo-admin", datetime.now(UTC))
