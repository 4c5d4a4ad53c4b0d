"""Prometheus metrics at ``/metrics``: what an operator graphs and alerts on.

One registry per controller (so tests can build several). The core registers the gauges of its own
parts (AMI, FastAGI); each package registers its own counters and gauges from its plugin, next to the
events they count.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Gauge, generate_latest

from hotline.ami import AmiClient
from hotline.fastagi import FastAgiServer


def core_metrics(registry: CollectorRegistry, ami: AmiClient, agi: FastAgiServer) -> None:
    Gauge("hotline_ami_connected", "1 when the AMI session is up", registry=registry).set_function(
        lambda: 1.0 if ami.connected else 0.0
    )
    Gauge("hotline_ami_events", "AMI events received since start", registry=registry).set_function(
        lambda: ami.events_received
    )
    Gauge("hotline_agi_sessions_active", "IVR sessions in progress", registry=registry).set_function(lambda: agi.active)


def render(registry: CollectorRegistry) -> bytes:
    return generate_latest(registry)
