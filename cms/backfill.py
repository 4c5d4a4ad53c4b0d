"""Interactions for calls the controller never recorded, rebuilt from Asterisk's queue_log.

When the controller was down (or its AMI session was) for a whole call, Asterisk still queued, connected
and ended it, and wrote that to queue_log. Every call there with a terminal event, no interaction row and
older than a short grace gets a minimal row (``source = 'queue_log'``): caller and queue from ENTERQUEUE,
agent and answer time from CONNECT, wait, talk and outcome from the terminal event. A live row written
later replaces it (the interaction upsert lets "live" win); a back-fill never touches an existing row.
"""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta

from sqlalchemy import text

from hotline.background import Periodic
from hotline.db import Database
from hotline.logs import get_logger

log = get_logger(__name__)

SOURCE = "queue_log"
BACKFILL_GAP = 10.0  # seconds at least between runs when poked (queue_log lines arrive every 2 s under traffic)
OUTCOMES = {
    "COMPLETECALLER": "answered",
    "COMPLETEAGENT": "answered",
    "TRANSFER": "answered",
    "BLINDTRANSFER": "answered",
    "ATTENDEDTRANSFER": "answered",
    "ABANDON": "abandoned",
    "EXITEMPTY": "no_agents",
    "EXITWITHTIMEOUT": "queue_timeout",
    "EXITWITHKEY": "exit_key",
}

# one statement: per call (queue_log callid = the caller channel's uniqueid = the call's linkedid), its
# queue entry, its connection and its last terminal event; numbers read only when they are numbers
BACKFILL_SQL = text(
    """
WITH recent AS (
    SELECT DISTINCT callid FROM queue_log
    WHERE event = ANY(CAST(:terminal AS text[])) AND time >= now() - CAST(:lookback AS interval)
      AND time < now() - CAST(:grace AS interval)
      AND callid IS NOT NULL AND callid NOT IN ('', 'NONE')
), calls AS (
    SELECT q.callid,
        min(q.time) AS first_at,
        min(q.time) FILTER (WHERE q.event = 'ENTERQUEUE') AS queued_at,
        (array_agg(q.data2 ORDER BY q.id) FILTER (WHERE q.event = 'ENTERQUEUE'))[1] AS caller,
        (array_agg(q.queue ORDER BY q.id) FILTER (WHERE q.event = 'ENTERQUEUE'))[1] AS enter_queue,
        min(q.time) FILTER (WHERE q.event = 'CONNECT') AS answered_at,
        (array_agg(q.agent ORDER BY q.id DESC) FILTER (WHERE q.event = 'CONNECT'))[1] AS connect_agent,
        (array_agg(q.data1 ORDER BY q.id DESC) FILTER (WHERE q.event = 'CONNECT'))[1] AS connect_hold,
        (array_agg(q.id ORDER BY q.id DESC) FILTER (WHERE q.event = ANY(CAST(:terminal AS text[]))))[1] AS end_id
    FROM queue_log q JOIN recent r ON r.callid = q.callid
    GROUP BY q.callid
), ended AS (
    SELECT c.*, t.time AS ended_at, t.event AS end_event, t.queue AS end_queue, t.agent AS end_agent,
        CASE t.event
            WHEN 'COMPLETECALLER' THEN t.data1 WHEN 'COMPLETEAGENT' THEN t.data1
            WHEN 'TRANSFER' THEN t.data3 WHEN 'BLINDTRANSFER' THEN t.data3
            WHEN 'ABANDON' THEN t.data3 WHEN 'EXITEMPTY' THEN t.data3 WHEN 'EXITWITHTIMEOUT' THEN t.data3
            WHEN 'EXITWITHKEY' THEN t.data4
            ELSE c.connect_hold
        END AS wait_text,
        CASE t.event
            WHEN 'COMPLETECALLER' THEN t.data2 WHEN 'COMPLETEAGENT' THEN t.data2
            WHEN 'TRANSFER' THEN t.data4 WHEN 'BLINDTRANSFER' THEN t.data4
        END AS talk_text
    FROM calls c JOIN queue_log t ON t.id = c.end_id
), named AS (
    SELECT e.*, coalesce(e.connect_agent, CASE WHEN e.answered_at IS NOT NULL THEN e.end_agent END) AS agent_raw
    FROM ended e
)
INSERT INTO interactions (call_id, caller, queue, agent, started_at, queued_at, answered_at, ended_at,
                          wait_seconds, talk_seconds, outcome, priority, source)
SELECT n.callid,
    left(nullif(n.caller, ''), 64),
    left(coalesce(n.enter_queue, n.end_queue), 80),
    left(CASE
        WHEN n.agent_raw IS NULL OR n.agent_raw IN ('', 'NONE') THEN NULL
        WHEN n.agent_raw LIKE '%/%' THEN split_part(split_part(n.agent_raw, '/', 2), '-', 1)
        ELSE coalesce((SELECT a.extension FROM agents a WHERE a.name = n.agent_raw ORDER BY a.id LIMIT 1),
                      n.agent_raw)
    END, 16),
    coalesce(n.queued_at, n.first_at),
    n.queued_at,
    n.answered_at,
    n.ended_at,
    CASE WHEN n.wait_text ~ '^[0-9]{1,9}(\\.[0-9]+)?$' THEN CAST(n.wait_text AS double precision) END,
    CASE WHEN n.talk_text ~ '^[0-9]{1,9}(\\.[0-9]+)?$' THEN CAST(n.talk_text AS double precision) END,
    coalesce(CAST(:outcomes AS jsonb) ->> n.end_event, 'ended'),
    0,
    :source
FROM named n
WHERE NOT EXISTS (SELECT 1 FROM interactions i WHERE i.call_id = n.callid)
ON CONFLICT (call_id) DO NOTHING
"""
)


class Backfill:
    def __init__(
        self,
        db: Database,
        *,
        grace: timedelta = timedelta(seconds=30),
        lookback: timedelta = timedelta(days=2),
        every: float = 60.0,
        timeout: float = 30.0,
    ) -> None:
        self.db = db
        self.grace = grace
        self.lookback = lookback
        self.every = every
        self.timeout = timeout
        self.rows_total = 0
        self.task = Periodic("back-fill", self.run, every, min_gap=BACKFILL_GAP)

    async def run(self) -> int:
        """Write the missing rows now; returns how many."""
        async with asyncio.timeout(self.timeout), self.db.session() as s:
            result = await s.execute(
                BACKFILL_SQL,
                {
                    "terminal": list(OUTCOMES),
                    "grace": self.grace,
                    "lookback": self.lookback,
                    "outcomes": json.dumps(OUTCOMES),
                    "source": SOURCE,
                },
            )
            await s.commit()
        n = int(getattr(result, "rowcount", 0) or 0)
        if n:
            self.rows_total += n
            log.info("interactions back-filled from queue_log", rows=n)
        return n

    def poke(self) -> None:
        """Run soon (the ingester caught up with new lines)."""
        self.task.poke()

    async def poked(self) -> None:
        self.poke()

    def start(self) -> None:
        self.task.start()

    async def stop(self) -> None:
        await self.task.stop()
