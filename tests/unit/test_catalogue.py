"""The event catalogue is generated from the code, and docs/EVENTS.md is kept current."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

from hotline.catalogue import event_types, render_catalogue

DOC = Path(__file__).resolve().parents[2] / "docs" / "EVENTS.md"


def test_every_event_is_listed_with_its_publisher_and_consumers(controller_parts: SimpleNamespace) -> None:
    text = render_catalogue(controller_parts.core.bus)
    names = [t.__name__ for t in event_types()]
    assert {"CallEnded", "AgentOffered", "IvrStarted", "IvrCompleted", "AgentStateChanged"} <= set(names)
    line = next(line for line in text.splitlines() if line.startswith("| `CallEnded`"))
    assert "| cti |" in line and "cms (InteractionWriter.on_call_ended)" in line
    assert "recordings (RecordingCatalog.on_call_ended)" in line and "cti (AgentHub.on_call_ended)" in line


def test_durable_records_are_listed_with_who_stores_them_and_who_takes_them_too(
    controller_parts: SimpleNamespace,
) -> None:
    text = render_catalogue(controller_parts.core.bus, outbox=controller_parts.core.outbox)
    line = next(line for line in text.splitlines() if line.startswith("| `agent_state` |"))
    assert "`acd.events.AgentStateRecord`" in line and "acd (store_agent_states)" in line
    assert line.endswith("| cms (store_acd_states) |")
    assert "| `call` |" in text and "| `ivr_visit` |" in text


def test_docs_events_md_is_current(controller_parts: SimpleNamespace) -> None:
    expected = render_catalogue(controller_parts.core.bus, outbox=controller_parts.core.outbox)
    assert DOC.read_text() == expected, "docs/EVENTS.md is stale: regenerate it with `hotline events > docs/EVENTS.md`"
