"""Callback requests that keep the caller's place (implements ``acd.interface.Callbacks``).

A request is a row in PostgreSQL (durable) with its place: when the caller joined the line (their queue
entry if the controller saw it, else the request) and their priority. While the queue is open, the request
waits in app_queue itself as a placeholder caller: a Local channel originated into ``hotline-callback-wait``
joins the queue with the request's priority at the position its place gives among the callers waiting (so
app_queue's own order, fairness and skills decide its turn, with no race against real callers). When an
agent answers the placeholder (screen-pop, agent state and queue_log as for any call), the other half of the
Local channel continues in ``hotline-callback`` and dials the customer: agent first. The dialplan reports the
outcome (UserEvent ``HotlineCallback``); a failure is tried again later, up to the configured attempts. After
an Asterisk restart, a placeholder that is gone is queued again at its place.

An agent may also take a pending callback at once from the desk (click-to-dial): their phone is originated
straight into ``hotline-callback``, reserved meanwhile (paused, reason ``callback``).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, func, select, update

from acd.interface import CallbackRequest, CallbackView
from acd.models import AgentState, CallbackRow
from acd.queues import Queues
from acd.rules import RoutingRules
from acd.service import AgentService
from hotline.ami import AmiActionError, AmiUnavailable
from hotline.db import Database
from hotline.errors import Conflict, NotFound
from hotline.hours import Schedule, opening
from hotline.logs import get_logger

log = get_logger(__name__)

CALLBACK_PAUSE = "callback"
CHANNEL_PREFIX = "callback-"  # the originated agent channel's uniqueid: callback-<id>-<attempt>
OPEN_STATES = ("pending", "queued", "dialling", "connecting")
WAITING = "queued"  # the placeholder is in the queue
KEEP_JOINS = 20_000
PLACEHOLDER_GRACE = 10.0  # seconds an originated placeholder may take to appear in QueueStatus
# seconds between looks while no request is open or due (a row written behind this service's back: another
# controller, a restored database); a request, a retry or a failed hand-off wakes the ticks at once
QUIET_RECHECK = 60.0


_OPEN = CallbackRow.state.in_(("pending", WAITING))
_DUE = (
    select(CallbackRow)
    .where(_OPEN, (CallbackRow.not_before.is_(None)) | (CallbackRow.not_before <= bindparam("now")))
    .order_by(CallbackRow.priority.desc(), CallbackRow.place_at)
    .limit(200)
)
_NEXT_DUE = select(func.min(CallbackRow.not_before)).where(_OPEN)  # after _DUE found none: the earliest retry


def _attempt(uid: str) -> tuple[int, int] | None:
    """'callback-12-3' (or '…-3-q') → (12, 3)."""
    if not uid.startswith(CHANNEL_PREFIX):
        return None
    parts = uid.removeprefix(CHANNEL_PREFIX).split("-")
    if len(parts) < 2 or not (parts[0].isdigit() and parts[1].isdigit()):
        return None
    return int(parts[0]), int(parts[1])


def _view(r: CallbackRow) -> CallbackView:
    return CallbackView(
        id=r.id,
        number=r.number,
        customer_id=r.customer_id,
        queue=r.queue,
        reason=r.reason,  # type: ignore[arg-type]
        call_id=r.call_id,
        language=r.language,
        intent=r.intent,
        not_before=r.not_before,
        state=r.state,
        requested_at=r.requested_at,
    )


class CallbackService:
    def __init__(
        self,
        db: Database,
        agents: AgentService,
        queues: Queues,
        rules: RoutingRules,
        schedules: dict[str, Schedule],
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.db = db
        self.agents = agents
        self.queues = queues
        self.rules = rules
        self.schedules = schedules
        self.clock = clock
        self.joined: OrderedDict[str, tuple[datetime, int]] = OrderedDict()  # call → (queue entry, priority)
        self.dialled = 0
        # no request is open or due before this time: the ticks skip the database until then (None: look)
        self._quiet_until: datetime | None = None
        self._wakes = 0  # bumped by every write that may make a request due: a look that raced it stays awake
        self.looks = 0  # ticks that read the database

    # ---- AMI -------------------------------------------------------------------------------------
    def register_ami(self, on: Callable[[str, Callable[[dict[str, Any]], object]], None]) -> None:
        on("QueueCallerJoin", self.on_QueueCallerJoin)
        on("UserEvent", self.on_UserEvent)
        on("OriginateResponse", self.on_OriginateResponse)
        on("AgentConnect", self.on_AgentConnect)

    async def on_AgentConnect(self, e: dict[str, Any]) -> None:
        """An agent answered a callback's placeholder: the callback is theirs."""
        found = _attempt(e.get("Linkedid") or e.get("Uniqueid") or "")
        agent = (e.get("Interface") or "").removeprefix("PJSIP/")
        if found is not None and agent.isdigit():
            await self._set(found[0], agent=agent)

    def on_QueueCallerJoin(self, e: dict[str, Any]) -> None:
        call = e.get("Linkedid") or e.get("Uniqueid")
        if call and call not in self.joined:
            try:
                priority = int(e.get("Priority") or 0)
            except ValueError:
                priority = 0
            self.joined[call] = (self.clock(), priority)
            while len(self.joined) > KEEP_JOINS:
                self.joined.popitem(last=False)

    async def on_UserEvent(self, e: dict[str, Any]) -> None:
        if e.get("UserEvent") != "HotlineCallback" or not (e.get("Id") or "").isdigit():
            return
        status = e.get("Status") or ""
        if status == "AGENT_ANSWERED":
            agent = (e.get("Agent") or "").strip()
            await self._set(int(e["Id"]), state="connecting", **({"agent": agent} if agent.isdigit() else {}))
        else:
            await self._finished(int(e["Id"]), status == "ANSWER", f"customer: {status or 'unknown'}")

    async def on_OriginateResponse(self, e: dict[str, Any]) -> None:
        """The placeholder (or a click-to-dial agent phone) ended without an agent answering."""
        found = _attempt(e.get("Uniqueid") or "")
        if found is None or e.get("Response") == "Success":
            return
        await self._finished(found[0], False, f"no agent answered ({e.get('Reason', '?')})", attempt=found[1])

    # ---- requests --------------------------------------------------------------------------------
    async def request(self, request: CallbackRequest) -> CallbackView:
        if request.queue not in self.queues.names():
            raise NotFound(f"no queue {request.queue}")
        now = self.clock()
        place, priority = self.joined.get(request.call_id or "", (now, 0))
        row = CallbackRow(
            number=request.number,
            customer_id=request.customer_id,
            queue=request.queue,
            reason=request.reason,
            call_id=request.call_id,
            language=request.language,
            intent=request.intent,
            priority=priority,
            place_at=place,
            requested_at=now,
            not_before=request.not_before,
            state="pending",
            attempts=0,
            updated_at=now,
        )
        async with self.db.session() as s:
            s.add(row)
            await s.commit()
            await s.refresh(row)
        self._wake()
        log.info("callback requested", callback=row.id, queue=row.queue, place=place.isoformat())
        return _view(row)

    async def open_list(self, states: tuple[str, ...] = OPEN_STATES, agent: str | None = None) -> list[CallbackView]:
        stmt = select(CallbackRow).where(CallbackRow.state.in_(states)).order_by(CallbackRow.place_at).limit(500)
        if agent is not None:
            stmt = stmt.where(CallbackRow.agent == agent)
        async with self.db.session() as s:
            return [_view(r) for r in (await s.execute(stmt)).scalars()]

    async def _set(self, callback_id: int, **values: Any) -> None:
        async with self.db.session() as s:
            await s.execute(
                update(CallbackRow).where(CallbackRow.id == callback_id).values(updated_at=self.clock(), **values)
            )
            await s.commit()
        if values.get("state") in ("pending", WAITING):
            self._wake()

    def _wake(self) -> None:
        """A request may be due: the next tick looks."""
        self._wakes += 1
        self._quiet_until = None

    async def _finished(self, callback_id: int, ok: bool, outcome: str, attempt: int | None = None) -> None:
        async with self.db.session() as s:
            row = await s.get(CallbackRow, callback_id)
            if row is None or row.state not in (WAITING, "dialling", "connecting"):
                return
            if attempt is not None and attempt != row.attempts:
                return  # an earlier attempt's end (a withdrawn placeholder)
            agent = row.agent
            if ok:
                row.state = "done"
            elif row.attempts >= self.rules.callbacks.attempts:
                row.state = "failed"
            else:
                row.state = "pending"
                row.not_before = self.clock() + timedelta(seconds=self.rules.callbacks.retry_after)
            row.last_error = None if ok else outcome[:200]
            row.updated_at = self.clock()
            await s.commit()
        self._wake()
        log.info("callback ended", callback=callback_id, ok=ok, outcome=outcome)
        if agent:
            live = self.agents.live.get(agent)
            if live is not None and live.state == AgentState.paused and live.reason == CALLBACK_PAUSE:
                await self.agents.unpause(agent)

    # ---- calling back ----------------------------------------------------------------------------
    def _open(self, queue: str, at: datetime) -> bool:
        hours = self.rules.queue(queue).hours
        return hours is None or opening(self.schedules[hours], at).open

    def position(self, row: CallbackRow, waiting: list[dict[str, Any]], now: datetime) -> int:
        """Where the request's place is among the callers waiting in its queue (1: the head). A caller's entry
        time is the one the controller saw; else Asterisk's wait, in whole seconds (rounded in their favour)."""
        ahead = 0
        for entry in waiting:
            if entry.get("Queue") != row.queue:
                continue
            priority = int(entry.get("Priority") or 0)
            seen = self.joined.get(str(entry.get("Uniqueid") or ""))
            since = seen[0] if seen else now - timedelta(seconds=float(entry.get("Wait") or 0) + 1)
            if priority > row.priority or (priority == row.priority and since <= row.place_at):
                ahead += 1
        return ahead + 1

    async def tick(self) -> int:
        """Queue a placeholder for every due request that has none; the number queued. While none is open or
        due, a tick costs no database read (the profile of an idle controller had one every 2 s)."""
        now = self.clock()
        if self._quiet_until is not None and now < self._quiet_until:
            return 0
        self._quiet_until = None
        wakes = self._wakes
        self.looks += 1
        async with self.db.read() as s:
            rows = list((await s.execute(_DUE, {"now": now})).scalars())
            if not rows:
                after = (await s.execute(_NEXT_DUE)).scalar()
                if wakes == self._wakes:  # no write raced these reads
                    recheck = now + timedelta(seconds=QUIET_RECHECK)
                    self._quiet_until = recheck if after is None else min(after, recheck)
                return 0
        rows = [r for r in rows if self._open(r.queue, now)]
        if not rows:
            return 0
        try:
            status = await self.agents.ami.action("QueueStatus", as_list=True)
        except (AmiActionError, AmiUnavailable) as e:
            log.warning("callbacks wait: no queue status", error=str(e))
            return 0
        waiting = [ev for ev in status.get("events", []) if ev.get("Event") == "QueueEntry"]
        log.debug("callbacks due", due=len(rows), waiting=[(w.get("Queue"), w.get("Wait")) for w in waiting])
        present = {str(ev.get("Uniqueid") or "") for ev in waiting}
        queued = 0
        for row in rows:
            if row.state == WAITING:
                if any(uid.startswith(f"{CHANNEL_PREFIX}{row.id}-") for uid in present):
                    continue
                if now - row.updated_at < timedelta(seconds=PLACEHOLDER_GRACE):
                    continue  # just originated: not in the queue yet
                log.info("callback placeholder gone (Asterisk restarted?): queued again", callback=row.id)
            if await self._queue(row, self.position(row, waiting, now)):
                queued += 1
        return queued

    async def _queue(self, row: CallbackRow, position: int) -> bool:
        rules = self.rules.callbacks
        attempt = row.attempts + 1
        wait = self.rules.queue(row.queue).max_wait
        variables = {
            "_HOTLINE_CALLBACK_ID": str(row.id),
            "_HOTLINE_CALLBACK_DIAL": rules.dial_string(row.number),
            "_HOTLINE_CALLBACK_RING": str(rules.customer_ring_seconds),
            "_HOTLINE_CALLBACK_QUEUE": row.queue,
            "_HOTLINE_CALLBACK_PRIO": str(row.priority),
            "_HOTLINE_CALLBACK_POSITION": str(position),
            "_HOTLINE_CALLBACK_WAIT": str(wait),
        }
        await self._set(row.id, state=WAITING, attempts=attempt)
        try:
            await self.agents.ami.action(
                "Originate",
                Channel=f"Local/{row.id}@hotline-callback-wait/n",
                Context="hotline-callback",
                Exten="s",
                Priority="1",
                Timeout=str((wait + 30) * 1000),
                CallerID=f"Callback <{''.join(c for c in row.number if c.isdigit())}>",
                ChannelId=f"{CHANNEL_PREFIX}{row.id}-{attempt}",
                OtherChannelId=f"{CHANNEL_PREFIX}{row.id}-{attempt}-q",
                Variable=",".join(f"{k}={v}" for k, v in variables.items()),
                Async="true",
            )
        except (AmiActionError, AmiUnavailable) as e:
            log.warning("callback not queued", callback=row.id, error=str(e))
            await self._set(row.id, state="pending", attempts=row.attempts, last_error=str(e)[:200])
            return False
        self.dialled += 1
        log.info("callback waiting in queue", callback=row.id, queue=row.queue, position=position, attempt=attempt)
        return True

    async def _dial(self, row: CallbackRow, agent: str) -> bool:
        """Click-to-dial: the agent's phone first, reserved meanwhile."""
        rules = self.rules.callbacks
        try:
            await self.agents.pause(agent, CALLBACK_PAUSE)
        except Conflict:
            return False
        attempt = row.attempts + 1
        await self._set(row.id, state="dialling", agent=agent, attempts=attempt)
        variables = {
            "HOTLINE_CALLBACK_ID": str(row.id),
            "HOTLINE_CALLBACK_DIAL": rules.dial_string(row.number),
            "HOTLINE_CALLBACK_RING": str(rules.customer_ring_seconds),
        }
        try:
            await self.agents.ami.action(
                "Originate",
                Channel=f"PJSIP/{agent}",
                Context="hotline-callback",
                Exten="s",
                Priority="1",
                Timeout=str(rules.agent_ring_seconds * 1000),
                CallerID=f"Callback <{''.join(c for c in row.number if c.isdigit())}>",
                ChannelId=f"{CHANNEL_PREFIX}{row.id}-{attempt}",
                Variable=",".join(f"{k}={v}" for k, v in variables.items()),
                Async="true",
            )
        except (AmiActionError, AmiUnavailable) as e:
            log.warning("callback not dialled", callback=row.id, error=str(e))
            await self._set(row.id, state="pending", last_error=str(e)[:200])
            await self.agents.unpause(agent)
            return False
        log.info("calling back", callback=row.id, agent=agent, attempt=attempt)
        return True

    async def _withdraw(self, row: CallbackRow) -> None:
        """Take the request's placeholder out of the queue (its end is then ignored: a newer attempt follows)."""
        try:
            status = await self.agents.ami.action("QueueStatus", as_list=True, Queue=row.queue)
            for entry in status.get("events", []):
                if str(entry.get("Uniqueid") or "").startswith(f"{CHANNEL_PREFIX}{row.id}-") and entry.get("Channel"):
                    await self.agents.ami.action("QueueWithdrawCaller", Queue=row.queue, Caller=entry["Channel"])
        except (AmiActionError, AmiUnavailable) as e:
            log.warning("callback placeholder not withdrawn", callback=row.id, error=str(e))

    async def click_to_dial(self, callback_id: int, agent: str) -> CallbackView:
        """An agent takes a pending callback now (from the desk's list)."""
        async with self.db.session() as s:
            row = await s.get(CallbackRow, callback_id)
        if row is None:
            raise NotFound(f"no callback {callback_id}")
        if row.state not in ("pending", WAITING):
            raise Conflict(f"callback {callback_id} is {row.state}")
        if not self.agents.is_free(agent):
            raise Conflict("be available (logged in, not on a call or paused) to call back")
        if row.state == WAITING:
            await self._withdraw(row)
        if not await self._dial(row, agent):
            raise Conflict("the call back could not be started; try again")
        async with self.db.session() as s:
            fresh = await s.get(CallbackRow, callback_id)
            assert fresh is not None
            return _view(fresh)
