"""Prometheus metrics at ``/metrics``: what an operator graphs and alerts on.

Counters follow the bus (calls ended by outcome, screen-pops, agent state changes); gauges are read
from the live parts at scrape time. One registry per controller, so tests can build several.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from prometheus_client import CollectorRegistry, Counter, Gauge, generate_latest

if TYPE_CHECKING:
    from hotline.app import Controller


class Metrics:
    def __init__(self, controller: Controller) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.calls = Counter("hotline_calls_total", "Calls ended, by outcome", ["outcome"], registry=r)
        self.pops = Counter("hotline_screen_pops_total", "Screen-pops sent to agents", registry=r)
        self.agent_states = Counter("hotline_agent_state_changes_total", "Agent state changes", ["state"], registry=r)
        Gauge("hotline_live_calls", "Calls in progress", registry=r).set_function(lambda: len(controller.calls.calls))
        Gauge("hotline_ami_connected", "1 when the AMI session is up", registry=r).set_function(
            lambda: 1.0 if controller.ami.connected else 0.0
        )
        Gauge("hotline_ami_events", "AMI events received since start", registry=r).set_function(
            lambda: controller.ami.events_received
        )
        Gauge("hotline_agi_sessions_active", "IVR sessions in progress", registry=r).set_function(
            lambda: controller.agi.active
        )
        Gauge("hotline_desk_connections", "Agent desk WebSockets open", registry=r).set_function(
            lambda: sum(len(v) for v in controller.hub.outboxes.values())
        )
        Gauge("hotline_outbox_pending", "Records kept locally, not yet in the database", registry=r).set_function(
            lambda: controller.outbox.stats.pending
        )
        Gauge("hotline_outbox_parked", "Records the database refused, kept aside", registry=r).set_function(
            lambda: controller.outbox.stats.parked
        )
        Gauge("hotline_outbox_oldest_pending_seconds", "Age of the oldest undelivered record", registry=r).set_function(
            lambda: controller.outbox.stats.oldest_pending_age_s or 0.0
        )
        Gauge("hotline_queue_log_lines", "queue_log lines stored since start", registry=r).set_function(
            lambda: controller.queue_log.lines_total
        )
        bus = controller.bus
        bus.subscribe("call.ended", self._on_call_ended)
        bus.subscribe("cti.screen_pop", lambda *_: self.pops.inc())
        bus.subscribe("agent.state", lambda _, e: self.agent_states.labels(e["state"]).inc())

    def _on_call_ended(self, _: str, e: dict[str, Any]) -> None:
        self.calls.labels(e["call"].final_outcome()).inc()

    def render(self) -> bytes:
        return generate_latest(self.registry)
