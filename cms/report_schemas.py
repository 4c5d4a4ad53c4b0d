"""The reports' API shapes."""

from __future__ import annotations

from pydantic import BaseModel


class Figures(BaseModel):
    """One period's figures (docs/METRICS.md); ratios are 0–1, times in seconds, None when not measurable."""

    calls: int
    offered: int
    answered: int
    abandoned: int
    short_abandoned: int
    timed_out: int
    service_level: float | None
    asa_seconds: float | None
    max_wait_seconds: float | None
    aht_seconds: float | None
    att_seconds: float | None
    hold_seconds: float | None
    acw_seconds: float | None
    abandon_rate: float | None
    transfers: int
    fcr: float | None
    occupancy: float | None
    utilisation: float | None
    ivr_containment: float | None
    csat: float | None
    csat_responses: int


class SummaryRow(Figures):
    key: str  # the interval's start (ISO), the local day, the queue or the agent


class Summary(BaseModel):
    since: str
    until: str
    by: str
    queues: list[str] | None
    timezone: str
    rows: list[SummaryRow]
    total: Figures


class StaffingRow(BaseModel):
    interval: str
    calls: int
    aht_seconds: float
    traffic_erlangs: float
    agents: int
    service_level: float
    asa_seconds: float
    occupancy: float


class Staffing(BaseModel):
    since: str
    until: str
    queues: list[str] | None
    target_sl: float
    threshold_s: float
    max_occupancy: float
    aht_seconds: float | None  # the period's measured AHT
    peak_agents: int
    rows: list[StaffingRow]
