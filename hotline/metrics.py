"""Prometheus metrics at ``/metrics``: what an operator graphs and alerts on.

One registry per controller (so tests can build several). The core registers the gauges of its own
parts (AMI, FastAGI); each package registers its own counters and gauges from its plugin, next to the
events they count.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Gauge, generate_latest

from hotline.ami import AmiClient
from hotline.fastagi import FastAgiServer
from hotline.outbox import Outbox


def core_metrics(registry: CollectorRegistry, ami: AmiClient, agi: FastAgiServer, outbox: Outbox) -> None:
    Gauge("hotline_ami_connected", "1 when the AMI session is up", registry=registry).set_function(
        lambda: 1.0 if ami.connected else 0.0
    )
    Gauge("hotline_ami_events", "AMI events received since start", registry=registry).set_function(
        lambda: ami.events_received
    )
    Gauge("hotline_agi_sessions_active", "IVR sessions in progress", registry=registry).set_function(lambda: agi.active)
    Gauge("hotline_outbox_pending", "Records kept locally, not yet in the database", registry=registry).set_function(
        lambda: outbox.stats.pending
    )
    Gauge("hotline_outbox_parked", "Records the database refused for good", registry=registry).set_function(
        lambda: outbox.stats.parked
    )
    Gauge(
        "hotline_outbox_oldest_pending_seconds", "Age of the oldest record not yet stored", registry=registry
    ).set_function(lambda: outbox.stats.oldest_pending_age_s or 0.0)


def render(registry: CollectorRegistry) -> bytes:
    return generate_latest(registry)
