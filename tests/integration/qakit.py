"""QA's test doubles: recorded calls as the recordings package would list them (RECORDINGS), and the QA state
the authorization matrix assumes (the calls of appkit.seed_calls sampled, agent 1001's call c1 reviewed)."""

from __future__ import annotations

from datetime import UTC, datetime

from hotline.auth import Principal, Role
from qa.demo import DEMO_FORM
from qa.plugin import QaPlugin
from qa.sampling import Month
from qa.schemas import EvaluationIn, MarkIn
from recordings.interface import RECORDINGS, RecordedCall
from tests.integration.appkit import OTHER_QUEUE, Kit


class FakeRecordings:
    """RecordedCalls over a list: those created in [since, until), oldest first."""

    def __init__(self, calls: list[RecordedCall] | None = None) -> None:
        self.calls = list(calls or [])

    async def recorded_calls(self, since: datetime, until: datetime, agent: str | None = None) -> list[RecordedCall]:
        found = [c for c in self.calls if since <= c.started_at < until and (agent is None or c.agent == agent)]
        return sorted(found, key=lambda c: (c.started_at, c.recording_id))

    async def get(self, recording_id: int) -> RecordedCall | None:
        return next((c for c in self.calls if c.recording_id == recording_id), None)


def recorded(recording_id: int, agent: str, queue: str | None = "support", at: datetime | None = None) -> RecordedCall:
    return RecordedCall(
        recording_id=recording_id,
        call_id=f"c{recording_id}",
        agent=agent,
        queue=queue,
        customer_id=None,
        started_at=at or datetime(2026, 11, 24, 9, tzinfo=UTC),
        duration_seconds=60,
    )


def principal(username: str, roles: set[Role], queues: frozenset[str] = frozenset()) -> Principal:
    now = datetime.now(UTC)
    return Principal(
        user_id=0,
        username=username,
        display_name=username,
        roles=frozenset(roles),
        supervised_queues=queues,
        session_id=0,
        token_hash="",
        created_at=now,
        expires_at=now,
    )


def demo_marks(**overrides: int | None) -> list[MarkIn]:
    scores = {c.key: c.max_score for c in DEMO_FORM.criteria} | overrides
    return [MarkIn(criterion=k, score=v) for k, v in scores.items()]


SUPERVISOR = principal("demo-supervisor", {Role.supervisor}, frozenset({"support"}))


async def seed_qa(kit: Kit) -> QaPlugin:
    """The three seeded calls (c1: 1001 in support; c2: 1002 in support; c3: 1002 in billing) recorded as
    recordings 1–3 and sampled for November 2026 (samples 1–3, c1 first); c1 reviewed by demo-supervisor on
    the demo form (evaluation 1)."""
    kit.controller.core.services.provide(
        RECORDINGS, FakeRecordings([recorded(1, "1001"), recorded(2, "1002"), recorded(3, "1002", OTHER_QUEUE)])
    )
    plugin = kit.controller.plugin("qa")
    assert isinstance(plugin, QaPlugin)
    run = await plugin.sampler.draw(Month(2026, 11), None, "system")
    assert run.added[0].call_id == "c1"
    form = (await plugin.forms.list())[0]
    await plugin.reviews.submit(SUPERVISOR, run.added[0].id, EvaluationIn(form_id=form.id, marks=demo_marks()))
    return plugin


def qa_marks_body(form_id: int, **overrides: int | None) -> dict[str, object]:
    return {"form_id": form_id, "marks": [m.model_dump() for m in demo_marks(**overrides)], "comment": "clear call"}


def qa_form_body() -> dict[str, object]:
    return {
        "name": "short-call",
        "title": "Short call",
        "criteria": [
            {"key": "greeting", "label": "Greets", "weight": 40},
            {"key": "truthful", "label": "Records truthfully", "weight": 60, "max_score": 1, "critical": True},
        ],
    }
