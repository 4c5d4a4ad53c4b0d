"""Live CMS counters for Prometheus (``/metrics``): calls offered, answered and abandoned per queue, counted
as calls end (in memory, since start; the reports are the durable figures)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter

from cti.events import CallEnded


class LiveCounters:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.offered = Counter(
            "hotline_queue_calls_offered", "Calls that entered a queue", ["queue"], registry=registry
        )
        self.answered = Counter(
            "hotline_queue_calls_answered", "Queued calls an agent answered", ["queue"], registry=registry
        )
        self.abandoned = Counter(
            "hotline_queue_calls_abandoned", "Queued calls whose caller hung up waiting", ["queue"], registry=registry
        )

    def on_call_ended(self, e: CallEnded) -> None:
        r = e.record
        if r.queued_at is None or not r.queue:
            return
        self.offered.labels(r.queue).inc()
        if r.answered_at is not None:
            self.answered.labels(r.queue).inc()
        elif r.outcome == "abandoned":
            self.abandoned.labels(r.queue).inc()
