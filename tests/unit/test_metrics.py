"""Prometheus metrics follow the bus and read the live parts."""

from __future__ import annotations

from pathlib import Path

from cti.calls import Call, now
from hotline.app import Controller
from hotline.config import Settings


def test_metrics_count_calls_pops_and_states(tmp_path: Path) -> None:
    controller = Controller(Settings(var_dir=tmp_path, asterisk_prefix=tmp_path, ami_secret="s", token_secret="t"))
    bus = controller.bus
    bus.publish("call.ended", {"call": Call(uniqueid="1", answered_at=now())})
    bus.publish("call.ended", {"call": Call(uniqueid="2", outcome="voicemail")})
    bus.publish("call.ended", {"call": Call(uniqueid="3", answered_at=now())})
    bus.publish("cti.screen_pop", {"agent": "1001", "pop": {}})
    bus.publish("agent.state", {"agent": "1001", "state": "paused"})
    controller.calls.calls["4"] = Call(uniqueid="4")
    text = controller.metrics.render().decode()
    assert 'hotline_calls_total{outcome="answered"} 2.0' in text
    assert 'hotline_calls_total{outcome="voicemail"} 1.0' in text
    assert "hotline_screen_pops_total 1.0" in text
    assert 'hotline_agent_state_changes_total{state="paused"} 1.0' in text
    assert "hotline_live_calls 1.0" in text
    assert "hotline_ami_connected 0.0" in text
