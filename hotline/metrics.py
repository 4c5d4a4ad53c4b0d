"""Prometheus metrics at ``/metrics``: what an operator graphs and alerts on.

One registry per controller (so tests can build several). The core registers the gauges of its own
parts (AMI, FastAGI); each package registers its own counters and gauges from its plugin, next to the
events they count.
"""

from __future__ import annotations

import functools
import gc
import time
from typing import Any

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
    gc_metrics(registry)


class GcPauses:
    """How long the cyclic garbage collector held the event loop, per generation (one per process: the
    collector is). A full collection walks every tracked object; a long one delays every call's events."""

    def __init__(self) -> None:
        self.count = [0, 0, 0]
        self.total = [0.0, 0.0, 0.0]
        self.longest = [0.0, 0.0, 0.0]
        self._began = 0.0

    def __call__(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._began = time.perf_counter()
            return
        g, took = info["generation"], time.perf_counter() - self._began
        self.count[g] += 1
        self.total[g] += took
        self.longest[g] = max(self.longest[g], took)


GC_PAUSES = GcPauses()
gc.callbacks.append(GC_PAUSES)


def gc_metrics(registry: CollectorRegistry) -> None:
    total = Gauge(
        "hotline_gc_pause_seconds_total", "Time the garbage collector held the loop", ["generation"], registry=registry
    )
    longest = Gauge(
        "hotline_gc_pause_longest_seconds", "Longest single collection since start", ["generation"], registry=registry
    )
    count = Gauge("hotline_gc_collections", "Collections since start", ["generation"], registry=registry)
    for g in range(3):
        count.labels(str(g)).set_function(functools.partial(GC_PAUSES.count.__getitem__, g))
        total.labels(str(g)).set_function(functools.partial(GC_PAUSES.total.__getitem__, g))
        longest.labels(str(g)).set_function(functools.partial(GC_PAUSES.longest.__getitem__, g))


def render(registry: CollectorRegistry) -> bytes:
    return generate_latest(registry)
