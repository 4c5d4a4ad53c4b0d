"""Prometheus metrics follow the bus and read the live parts."""

from __future__ import annotations

from types import SimpleNamespace

from cti.calls import Call, now
from hotline.bus import EventBus
from hotline.metrics import Metrics


def test_metrics_count_calls_pops_and_states() -> None:
    bus = EventBus()
    parts = SimpleNamespace(
        bus=bus,
        calls=SimpleNamespace(calls={"4": Call(uniqueid="4")}),
        ami=SimpleNamespace(connected=False, events_received=12),
        agi=SimpleNamespace(active=2),
        hub=SimpleNamespace(outboxes={"1001": {object(), object()}, "1002": {object()}}),
        outbox=SimpleNamespace(stats=SimpleNamespace(pending=1, parked=2, oldest_pending_age_s=None)),
        queue_log=SimpleNamespace(lines_total=7),
    )
    metrics = Metrics(parts)  # type: ignore[arg-type]
    bus.publish("call.ended", {"call": Call(uniqueid="1", answered_at=now())})
    bus.publish("call.ended", {"call": Call(uniqueid="2", outcome="voicemail")})
    bus.publish("call.ended", {"call": Call(uniqueid="3", answered_at=now())})
    bus.publish("cti.screen_pop", {"agent": "1001", "pop": {}})
    bus.publish("agent.state", {"agent": "1001", "state": "paused"})
    text = metrics.render().decode()
    assert 'hotline_calls_total{outcome="answered"} 2.0' in text
    assert 'hotline_calls_total{outcome="voicemail"} 1.0' in text
    assert "hotline_screen_pops_total 1.0" in text
    assert 'hotline_agent_state_changes_total{state="paused"} 1.0' in text
    assert "hotline_live_calls 1.0" in text
    assert "hotline_ami_connected 0.0" in text and "hotline_ami_events 12.0" in text
    assert "hotline_agi_sessions_active 2.0" in text and "hotline_desk_connections 3.0" in text
    assert "hotline_outbox_pending 1.0" in text and "hotline_outbox_parked 2.0" in text
    assert "hotline_outbox_oldest_pending_seconds 0.0" in text and "hotline_queue_log_lines 7.0" in text
