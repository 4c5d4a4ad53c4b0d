"""Callback requests that keep the caller's place (implements ``acd.interface.Callbacks``).

A request is a row in PostgreSQL (durable) with its place: when the caller joined the line (their queue
entry if the controller saw it, else the request) and their priority. A periodic pass calls back, agent
first: when no caller waiting in that queue is ahead of the request (higher priority, or the same priority
and waiting since earlier) and an agent of the queue is free, the agent is reserved (paused, reason
``callback``) and their phone is originated into the dialplan's ``hotline-callback`` context, which dials
the customer once the agent answers. The dialplan reports the outcome (UserEvent ``HotlineCallback``); a
failure is tried again later, up to the configured attempts.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select, update

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
OPEN_STATES = ("pending", "dialling")
KEEP_JOINS = 20_000


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

    # ---- AMI -------------------------------------------------------------------------------------
    def register_ami(self, on: Callable[[str, Callable[[dict[str, Any]], object]], None]) -> None:
        on("QueueCallerJoin", self.on_QueueCallerJoin)
        on("UserEvent", self.on_UserEvent)
        on("OriginateResponse", self.on_OriginateResponse)

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
            await self._set(int(e["Id"]), state="connecting")
        else:
            await self._finished(int(e["Id"]), status == "ANSWER", f"customer: {status or 'unknown'}")

    async def on_OriginateResponse(self, e: dict[str, Any]) -> None:
        uid = e.get("Uniqueid") or ""
        if not uid.startswith(CHANNEL_PREFIX) or e.get("Response") == "Success":
            return
        callback_id = uid.removeprefix(CHANNEL_PREFIX).split("-")[0]
        if callback_id.isdigit():
            await self._finished(int(callback_id), False, f"agent did not answer ({e.get('Reason', '?')})")

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

    async def _finished(self, callback_id: int, ok: bool, outcome: str) -> None:
        async with self.db.session() as s:
            row = await s.get(CallbackRow, callback_id)
            if row is None or row.state not in ("dialling", "connecting"):
                return
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
        log.info("callback ended", callback=callback_id, ok=ok, outcome=outcome)
        if agent:
            live = self.agents.live.get(agent)
            if live is not None and live.state == AgentState.paused and live.reason == CALLBACK_PAUSE:
                await self.agents.unpause(agent)

    # ---- calling back ----------------------------------------------------------------------------
    def _open(self, queue: str, at: datetime) -> bool:
        hours = self.rules.queue(queue).hours
        return hours is None or opening(self.schedules[hours], at).open

    def _ahead(self, row: CallbackRow, waiting: list[dict[str, Any]], now: datetime) -> bool:
        """Is a caller waiting in the queue ahead of this request?"""
        for entry in waiting:
            if entry.get("Queue") != row.queue:
                continue
            priority = int(entry.get("Priority") or 0)
            since = now - timedelta(seconds=float(entry.get("Wait") or 0))
            if priority > row.priority or (priority == row.priority and since <= row.place_at):
                return True
        return False

    def _free_agent(self, queue: str, taken: set[str]) -> str | None:
        """The free agent of the queue with the best skill (lowest penalty) not yet given a callback."""
        free = [ext for ext in self.agents.live if ext not in taken and self.agents.is_free(ext)]
        members = []
        for ext in free:
            agent = self.agents.known(ext)
            if agent is not None and queue in self.agents.memberships(agent):
                members.append((self.rules.penalty(ext, queue), ext))
        return min(members)[1] if members else None

    async def tick(self) -> int:
        """Call back whoever's turn it is; the number of callbacks started."""
        now = self.clock()
        async with self.db.session() as s:
            due = list(
                (
                    await s.execute(
                        select(CallbackRow)
                        .where(
                            CallbackRow.state == "pending",
                            (CallbackRow.not_before.is_(None)) | (CallbackRow.not_before <= now),
                        )
                        .order_by(CallbackRow.priority.desc(), CallbackRow.place_at)
                        .limit(50)
                    )
                ).scalars()
            )
        due = [r for r in due if self._open(r.queue, now)]
        if not due:
            return 0
        try:
            status = await self.agents.ami.action("QueueStatus", as_list=True)
        except (AmiActionError, AmiUnavailable) as e:
            log.warning("callbacks wait: no queue status", error=str(e))
            return 0
        waiting = [ev for ev in status.get("events", []) if ev.get("Event") == "QueueEntry"]
        started = 0
        taken: set[str] = set()
        for row in due:
            if self._ahead(row, waiting, now):
                continue
            agent = self._free_agent(row.queue, taken)
            if agent is None:
                continue
            taken.add(agent)
            if await self._dial(row, agent):
                started += 1
        return started

    async def _dial(self, row: CallbackRow, agent: str) -> bool:
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
        self.dialled += 1
        log.info("calling back", callback=row.id, agent=agent, attempt=attempt)
        return True

    async def click_to_dial(self, callback_id: int, agent: str) -> CallbackView:
        """An agent takes a pending callback now (from the desk's list)."""
        async with self.db.session() as s:
            row = await s.get(CallbackRow, callback_id)
        if row is None:
            raise NotFound(f"no callback {callback_id}")
        if row.state != "pending":
            raise Conflict(f"callback {callback_id} is {row.state}")
        if not self.agents.is_free(agent):
            raise Conflict("be available (logged in, not on a call or paused) to call back")
        if not await self._dial(row, agent):
            raise Conflict("the call back could not be started; try again")
        async with self.db.session() as s:
            fresh = await s.get(CallbackRow, callback_id)
            assert fresh is not None
            return _view(fresh)
