"""A hand-computed day of calls for the CMS's reports (real rows: interactions, queue_log lines, agents'
state changes and surveys through the CMS's own sinks).

Queue ``support`` (threshold 20 s, short abandon < 5 s, FCR 7 days), 2026-11-24 from 01:00 UTC:
- k1 13800138000: queued 01:00:00, 1001 answers after 10 s (ring 2 s), 120 s connected of which 20 s on hold,
  30 s wrap-up; survey 5; the IVR reported it (not contained);
- k2 13900139000: queued 01:05:00, 1002 answers after 40 s, 60 s connected; survey 3;
- k3: abandoned after 3 s (short);  k4: abandoned after 30 s (after the threshold);
- k5 13800138000 again at 01:20:00 (the next interval): 1001 answers after 5 s, 50 s → k1 was not resolved;
- k6: served by the IVR alone (never queued).
Agent 1001: available 01:00:00, on_call 01:00:10, on_hold 01:01:00, on_call 01:01:20, wrap_up 01:02:10,
available 01:02:40, paused 01:05:00, logged_out 01:10:00 → handling 150 s, available 150 s, paused 300 s.

By hand (every queue): offered 5 (4 counted), answered 3, abandoned 1 + 1 short, SL 2/4 = 0.5, ASA 55/3,
talk 100 + 60 + 50 = 210, hold 20, ACW 30 → AHT 260/3, abandon rate 1/4, FCR 2/3, CSAT 4, IVR containment
1/2, occupancy 150/300 = 0.5, utilisation 150/600 = 0.25.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from cms.agent_states import StateChange, Survey, store_state_changes, store_surveys
from cms.models import Interaction, QueueLogLine
from hotline.db import Database

T0 = datetime(2026, 11, 24, 1, 0, tzinfo=UTC)
DAY = (datetime(2026, 11, 24, tzinfo=UTC), datetime(2026, 11, 25, tzinfo=UTC))
_offset = iter(range(10**6))


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def qlog(t: float, callid: str, event: str, *data: str, agent: str = "NONE", queue: str = "support") -> QueueLogLine:
    d = [*data, None, None, None, None]
    return QueueLogLine(
        time=at(t),
        callid=callid,
        queue=queue,
        agent=agent,
        event=event,
        data1=d[0],
        data2=d[1],
        data3=d[2],
        data4=d[3],
        src_inode=1,
        src_offset=next(_offset),
    )


def call(call_id: str, start: float, end: float, outcome: str, **kw: object) -> Interaction:
    return Interaction(call_id=call_id, started_at=at(start), ended_at=at(end), outcome=outcome, **kw)


async def seed_day(db: Database) -> None:
    async with db.session() as s:
        s.add_all(
            [
                call(
                    "k1",
                    -20,
                    130,
                    "answered",
                    caller="13800138000",
                    queue="support",
                    agent="1001",
                    queued_at=at(0),
                    answered_at=at(10),
                    self_service=False,
                ),
                call(
                    "k2",
                    290,
                    400,
                    "answered",
                    caller="13900139000",
                    queue="support",
                    agent="1002",
                    queued_at=at(300),
                    answered_at=at(340),
                ),
                call("k3", 595, 603, "abandoned", caller="13700137000", queue="support", queued_at=at(600)),
                call("k4", 650, 690, "abandoned", caller="13600136000", queue="support", queued_at=at(660)),
                call(
                    "k5",
                    1195,
                    1255,
                    "answered",
                    caller="13800138000",
                    queue="support",
                    agent="1001",
                    queued_at=at(1200),
                    answered_at=at(1205),
                ),
                call("k6", 200, 260, "ivr_hangup", caller="13500135000", self_service=True),
            ]
        )
        s.add_all(
            [
                qlog(0, "k1", "ENTERQUEUE", "", "13800138000", "1"),
                qlog(10, "k1", "CONNECT", "10", "k1.a", "2", agent="PJSIP/1001"),
                qlog(130, "k1", "COMPLETECALLER", "10", "120", "1", agent="PJSIP/1001"),
                qlog(300, "k2", "ENTERQUEUE", "", "13900139000", "1"),
                qlog(320, "k2", "RINGNOANSWER", "15000", agent="PJSIP/1001"),
                qlog(340, "k2", "CONNECT", "40", "k2.a", "5", agent="PJSIP/1002"),
                qlog(400, "k2", "COMPLETEAGENT", "40", "60", "1", agent="PJSIP/1002"),
                qlog(600, "k3", "ENTERQUEUE", "", "13700137000", "1"),
                qlog(603, "k3", "ABANDON", "1", "1", "3"),
                qlog(660, "k4", "ENTERQUEUE", "", "13600136000", "2"),
                qlog(690, "k4", "ABANDON", "1", "2", "30"),
                qlog(1200, "k5", "ENTERQUEUE", "", "13800138000", "1"),
                qlog(1205, "k5", "CONNECT", "5", "k5.a", "1", agent="PJSIP/1001"),
                qlog(1255, "k5", "COMPLETECALLER", "5", "50", "1", agent="PJSIP/1001"),
            ]
        )
        await s.commit()
    states = [(0, "available"), (10, "on_call"), (60, "on_hold"), (80, "on_call"), (130, "wrap_up"),
              (160, "available"), (300, "paused"), (600, "logged_out")]  # fmt: skip
    async with db.session() as s:
        await store_state_changes(s, [StateChange(agent="1001", state=st, since=at(t)) for t, st in states])
        await store_surveys(
            s,
            [
                Survey(call_id="k1", agent="1001", score=5, at=at(200)),
                Survey(call_id="k2", agent="1002", score=3, at=at(500)),
            ],
        )
        await s.commit()
