"""Prometheus metrics: each package counts its own events; the core reads its parts at scrape time."""

from __future__ import annotations

import gc
from datetime import UTC, datetime
from types import SimpleNamespace

from prometheus_client import CollectorRegistry

from acd.events import AgentStateChanged
from cti.events import AgentOffered, CallEnded, CallRecord
from hotline.metrics import GC_PAUSES, core_metrics, gc_metrics, render
from tests.unit.test_hub import _pop

T = datetime(2026, 11, 24, tzinfo=UTC)


def test_garbage_collections_are_timed_per_generation() -> None:
    registry = CollectorRegistry()
    gc_metrics(registry)
    before = GC_PAUSES.count[2], GC_PAUSES.total[2]
    gc.collect()
    assert GC_PAUSES.count[2] == before[0] + 1 and GC_PAUSES.total[2] > before[1]
    text = render(registry).decode()
    assert f'hotline_gc_collections{{generation="2"}} {float(GC_PAUSES.count[2])}' in text
    assert f'hotline_gc_pause_longest_seconds{{generation="2"}} {GC_PAUSES.longest[2]}' in text


def test_core_gauges_read_the_live_parts() -> None:
    registry = CollectorRegistry()
    ami = SimpleNamespace(connected=False, events_received=12)
    outbox = SimpleNamespace(stats=SimpleNamespace(pending=3, parked=1, oldest_pending_age_s=None))
    core_metrics(registry, ami, SimpleNamespace(active=2), outbox)  # type: ignore[arg-type]
    text = render(registry).decode()
    assert "hotline_outbox_pending 3.0" in text and "hotline_outbox_parked 1.0" in text
    assert "hotline_outbox_oldest_pending_seconds 0.0" in text
    assert "hotline_ami_connected 0.0" in text and "hotline_ami_events 12.0" in text
    assert "hotline_agi_sessions_active 2.0" in text


async def test_the_packages_count_calls_pops_and_states(controller_parts: SimpleNamespace) -> None:
    """Async: CallEnded also reaches the (coroutine) record writers, which need a running loop."""
    core, cti = controller_parts.core, controller_parts.cti
    for outcome in ("answered", "voicemail", "answered"):
        core.bus.publish(CallEnded(record=CallRecord(call_id=outcome, started_at=T, outcome=outcome)))
    core.bus.publish(AgentOffered(pop=_pop()))
    core.bus.publish(AgentStateChanged(agent="1001", state="paused", since=T))
    cti.calls.calls["4"] = object()
    cti.hub.connect("1001"), cti.hub.connect("1001"), cti.hub.connect("1002")
    await core.bus.drain()
    text = render(core.metrics).decode()
    assert 'hotline_calls_total{outcome="answered"} 2.0' in text
    assert 'hotline_calls_total{outcome="voicemail"} 1.0' in text
    assert "hotline_screen_pops_total 1.0" in text
    assert 'hotline_agent_state_changes_total{state="paused"} 1.0' in text
    assert "hotline_live_calls 1.0" in text and "hotline_desk_connections 3.0" in text
    assert "hotline_queue_log_lines 0.0" in text
