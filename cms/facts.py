"""Per-call facts, derived by a pure function from what the CMS stored about a call.

Sources, in order of trust: Asterisk's queue_log lines of the call (its own account of the queue), the
interaction row (the controller's call model, or a back-fill), the call's legs, and the answering agent's
state intervals (from acd's ``AgentStateChanged``: hold and wrap-up). Nothing here touches the database.

Definitions (docs/METRICS.md):
- queue: the first queue the call entered (ENTERQUEUE), else the interaction's queue; '' when it never queued.
- offered: it entered a queue.  answered: an agent connected (CONNECT, or an answer time on the row).
- abandoned: the caller hung up while waiting (ABANDON; or outcome ``abandoned`` when there is no line).
- short abandon: abandoned after less than ``short_abandon_seconds`` of waiting.
- timed out: left the queue unanswered without hanging up (EXITWITHTIMEOUT, EXITEMPTY, EXITWITHKEY).
- wait: seconds in queue until the answer (CONNECT holdtime) or until the caller left (ABANDON/EXIT… wait).
- ring: seconds the answering agent's phone rang (CONNECT ringtime); ``ring_attempts``: RINGNOANSWER lines.
- hold: seconds of the answering agent's ``on_hold`` intervals between the answer and the end of the call.
- talk: seconds connected (COMPLETE… calltime, or the transfer's calltime) minus hold.
- wrap-up (ACW): the answering agent's ``wrap_up`` interval that starts when the call ends (from 5 s before
  to 60 s after); None while it is still open; 0 when the agent went on without one.
- abandon point: the wait at the abandon and the caller's position then (and when they entered).
- transfers: the transfers Asterisk logged for the call (or, without lines, its transfer legs).
- IVR containment: the IVR reported on the call (``self_service`` not null) and served it alone (true).
- within threshold: answered (or, not short, abandoned) within the queue's service-level threshold.
- agent: the interaction's agent (an extension), else the CONNECT line's interface.
- contact key: ``customer:<id>`` if the caller was identified, else ``number:<E.164>``; FCR compares it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from crm_bridge.phones import normalise

INTERVAL = timedelta(minutes=15)
INTERVAL_SECONDS = 900
WRAP_BEFORE = timedelta(seconds=5)  # a wrap-up may be recorded just before the call's end is
WRAP_AFTER = timedelta(seconds=60)
TERMINAL_TRANSFERS = {"TRANSFER", "BLINDTRANSFER", "ATTENDEDTRANSFER"}
EXITS = {"EXITWITHTIMEOUT", "EXITEMPTY", "EXITWITHKEY"}
COMPLETES = {"COMPLETECALLER", "COMPLETEAGENT"}


@dataclass(frozen=True)
class QueueEvent:
    """One queue_log line of the call."""

    time: datetime
    event: str
    queue: str | None = None
    agent: str | None = None
    data1: str | None = None
    data2: str | None = None
    data3: str | None = None
    data4: str | None = None


@dataclass(frozen=True)
class Span:
    """An interval of an agent's state (``ended`` None: still in it)."""

    state: str
    started: datetime
    ended: datetime | None


@dataclass(frozen=True)
class CallInputs:
    call_id: str
    started_at: datetime
    outcome: str
    caller: str | None = None
    customer_id: int | None = None
    queue: str | None = None
    agent: str | None = None
    queued_at: datetime | None = None
    answered_at: datetime | None = None
    ended_at: datetime | None = None
    wait_seconds: float | None = None
    talk_seconds: float | None = None
    self_service: bool | None = None
    source: str = "live"
    lines: Sequence[QueueEvent] = ()  # oldest first
    transfer_legs: int = 0
    spans: Sequence[Span] = ()  # the answering agent's states around the call
    csat: int | None = None


@dataclass
class CallFact:
    call_id: str
    bucket: datetime  # the 15-minute interval the call counts in
    queue: str
    agent: str
    contact_key: str | None
    started_at: datetime
    queued_at: datetime | None
    answered_at: datetime | None
    ended_at: datetime | None
    offered: bool = False
    answered: bool = False
    abandoned: bool = False
    short_abandon: bool = False
    timed_out: bool = False
    in_sl: bool = False  # answered, or abandoned (not short), within the threshold
    wait_s: float | None = None
    ring_s: float | None = None
    ring_attempts: int = 0
    talk_s: float | None = None
    hold_s: float | None = None
    acw_s: float | None = None
    acw_pending: bool = False
    abandon_position: int | None = None
    abandon_entry_position: int | None = None
    transfers: int = 0
    ivr_known: bool = False
    ivr_contained: bool = False
    csat: int | None = None
    source: str = "live"
    extra: dict[str, object] = field(default_factory=dict)


def bucket_of(t: datetime) -> datetime:
    """The start of the 15-minute interval holding ``t`` (aligned on the hour, in UTC)."""
    seconds = int(t.timestamp())
    return datetime.fromtimestamp(seconds - seconds % INTERVAL_SECONDS, t.tzinfo)


def _number(text: str | None) -> float | None:
    try:
        value = float(text) if text not in (None, "") else None
    except ValueError:
        return None
    return value if value is not None and 0 <= value < 1e9 else None


def _int(text: str | None) -> int | None:
    value = _number(text)
    return int(value) if value is not None else None


def _agent_name(raw: str | None) -> str | None:
    """An extension from a queue_log agent field (``PJSIP/1001``, ``Local/1001@…``, or a name)."""
    if not raw or raw in ("NONE", ""):
        return None
    if "/" in raw:
        return raw.split("/", 1)[1].split("@", 1)[0].split("-", 1)[0] or None
    return raw


def answering_agent(row_agent: str | None, connect: QueueEvent | None) -> str:
    """The extension of the agent who answered: the interaction's (the call model's, or the back-fill's, which
    maps member names), else the CONNECT line's interface (``PJSIP/1001``); a member name alone is not one."""
    if row_agent:
        return row_agent
    if connect is not None and connect.agent and "/" in connect.agent:
        return _agent_name(connect.agent) or ""
    return ""


def contact_key(customer_id: int | None, caller: str | None) -> str | None:
    if customer_id is not None:
        return f"customer:{customer_id}"
    number = normalise(caller)
    return f"number:{number}" if number and len(number.lstrip("+")) >= 5 else None


def _overlap(spans: Sequence[Span], state: str, start: datetime, end: datetime) -> float:
    total = 0.0
    for s in spans:
        if s.state != state:
            continue
        lo, hi = max(s.started, start), min(s.ended or end, end)
        if hi > lo:
            total += (hi - lo).total_seconds()
    return total


def _wrap_up(spans: Sequence[Span], call_end: datetime) -> tuple[float | None, bool]:
    """(seconds, pending) of the wrap-up that follows the call."""
    for s in spans:
        if s.state == "wrap_up" and call_end - WRAP_BEFORE <= s.started <= call_end + WRAP_AFTER:
            if s.ended is None:
                return None, True
            return (s.ended - s.started).total_seconds(), False
    return 0.0, False


def derive(c: CallInputs, threshold: float, short_abandon: float) -> CallFact:
    """The call's facts; ``threshold`` is its queue's service-level seconds."""
    first: dict[str, QueueEvent] = {}
    last: dict[str, QueueEvent] = {}
    rna = 0
    transfers = 0
    for line in c.lines:
        first.setdefault(line.event, line)
        last[line.event] = line
        rna += line.event == "RINGNOANSWER"
        transfers += line.event in TERMINAL_TRANSFERS
    enter, connect, abandon = first.get("ENTERQUEUE"), first.get("CONNECT"), last.get("ABANDON")
    exit_line = next((last[e] for e in EXITS if e in last), None)

    queue = (enter.queue if enter else None) or c.queue or ""
    queued_at = enter.time if enter else c.queued_at
    offered = enter is not None or c.queued_at is not None
    answered = connect is not None or (c.answered_at is not None and offered)
    answered_at = connect.time if connect else c.answered_at
    abandoned = not answered and (abandon is not None or (not c.lines and offered and c.outcome == "abandoned"))
    timed_out = offered and not answered and not abandoned and (exit_line is not None or c.outcome == "queue_timeout")
    agent = answering_agent(c.agent, connect) if answered else ""

    fact = CallFact(
        call_id=c.call_id,
        bucket=bucket_of(queued_at or c.started_at),
        queue=queue,
        agent=agent,
        contact_key=contact_key(c.customer_id, c.caller),
        started_at=c.started_at,
        queued_at=queued_at,
        answered_at=answered_at if answered else None,
        ended_at=c.ended_at,
        offered=offered,
        answered=answered,
        abandoned=abandoned,
        timed_out=timed_out,
        ring_attempts=rna,
        transfers=transfers or c.transfer_legs,
        ivr_known=c.self_service is not None,
        ivr_contained=bool(c.self_service),
        csat=c.csat,
        source=c.source,
    )
    if answered:
        fact.wait_s = _number(connect.data1) if connect else None
        if fact.wait_s is None:
            fact.wait_s = c.wait_seconds
        if fact.wait_s is None and queued_at and answered_at:
            fact.wait_s = max(0.0, (answered_at - queued_at).total_seconds())
        fact.ring_s = _number(connect.data3) if connect else None
        connected = _connected_seconds(last, c)
        end = c.ended_at or (answered_at + timedelta(seconds=connected or 0) if answered_at else None)
        hold = _overlap(c.spans, "on_hold", answered_at, end) if answered_at and end else 0.0
        fact.hold_s = hold
        fact.talk_s = max(0.0, connected - hold) if connected is not None else None
        if end is not None:
            fact.acw_s, fact.acw_pending = _wrap_up(c.spans, end)
        fact.in_sl = fact.wait_s is not None and fact.wait_s <= threshold
    elif abandoned:
        wait = _number(abandon.data3) if abandon else None
        if wait is None:
            wait = c.wait_seconds
        if wait is None and queued_at and c.ended_at:
            wait = max(0.0, (c.ended_at - queued_at).total_seconds())
        fact.wait_s = wait
        fact.short_abandon = wait is not None and wait < short_abandon
        fact.in_sl = not fact.short_abandon and wait is not None and wait <= threshold
        if abandon is not None:
            fact.abandon_position = _int(abandon.data1)
            fact.abandon_entry_position = _int(abandon.data2)
    elif timed_out:
        if exit_line is not None:
            fact.wait_s = _number(exit_line.data4 if exit_line.event == "EXITWITHKEY" else exit_line.data3)
        if fact.wait_s is None:
            fact.wait_s = c.wait_seconds
    return fact


def _connected_seconds(last: dict[str, QueueEvent], c: CallInputs) -> float | None:
    """Seconds the caller was connected to the answering agent (Asterisk's calltime)."""
    for event in COMPLETES:
        if event in last:
            return _number(last[event].data2)
    if "ATTENDEDTRANSFER" in last:
        return _number(last["ATTENDEDTRANSFER"].data3)
    for event in ("BLINDTRANSFER", "TRANSFER"):
        if event in last:
            return _number(last[event].data4)
    if c.talk_seconds is not None:
        return c.talk_seconds
    if c.answered_at and c.ended_at:
        return max(0.0, (c.ended_at - c.answered_at).total_seconds())
    return None
