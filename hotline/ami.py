"""The AMI connection: login, actions correlated by ActionID, events dispatched by exact name, keep-alive
pings, and reconnection with back-off.

Events nobody handles cost a peek at their first line and nothing else (see ``hotline.amiproto``).
Handlers are synchronous and run in arrival order; one that raises is logged and the connection goes on.
After each login the ``on_connected`` handlers run: the moment to sync state (re-add queue members, read
queue status), so a restarted Asterisk or controller converges.
"""

from __future__ import annotations

import asyncio
import itertools
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from hotline.amiproto import RESPONSE_PREFIX, Framer, encode_action, parse
from hotline.logs import get_logger

log = get_logger(__name__)

EventHandler = Callable[[dict[str, str]], object]
StateHandler = Callable[[], object]

BACKOFF_FIRST = 0.5
BACKOFF_MAX = 5.0


class AmiUnavailable(RuntimeError):
    """No authenticated AMI session right now."""


class AmiActionError(RuntimeError):
    def __init__(self, action: str, message: str) -> None:
        super().__init__(f"{action}: {message}")
        self.action = action
        self.message = message


@dataclass
class _Pending:
    """An action waiting for its response (and, for ``as_list``, for its list's closing event)."""

    name: str
    as_list: bool
    future: asyncio.Future[dict[str, Any]]
    head: dict[str, Any] | None = None
    events: list[dict[str, str]] = field(default_factory=list)


class _Connection(asyncio.Protocol):
    def __init__(self, feed: Callable[[bytes], None], lost: Callable[[], None]) -> None:
        self.feed = feed
        self.on_lost = lost
        self.transport: asyncio.Transport | None = None
        self.lost: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.feed(data)

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.lost.done():
            self.lost.set_result(None)
            self.on_lost()

    def write(self, data: bytes) -> None:
        if self.transport is None or self.transport.is_closing():
            raise ConnectionResetError("AMI connection closed")
        self.transport.write(data)

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()


class AmiClient:
    def __init__(
        self,
        host: str,
        port: int,
        username: str,
        secret: str,
        *,
        action_timeout: float = 5.0,
        ping_interval: float = 10.0,
        boot_timeout: float = 60.0,
    ) -> None:
        self.host, self.port = host, port
        self.username, self.secret = username, secret
        self.action_timeout = action_timeout
        self.ping_interval = ping_interval
        self.boot_timeout = boot_timeout
        self.events_received = 0
        self.events_dispatched = 0
        self.garbage = 0  # blocks that were neither an event nor a response
        self._handlers: dict[bytes, list[EventHandler]] = {}
        self._on_connected: list[StateHandler] = []
        self._on_disconnected: list[StateHandler] = []
        self._pending: dict[str, _Pending] = {}
        self._lists: dict[str, _Pending] = {}  # the pending as_list actions: their events carry the ActionID
        self._ids = itertools.count(1)
        self._id_prefix = f"hl{os.getpid()}-"
        self._framer = Framer()
        self._conn: _Connection | None = None
        self._logged_in = asyncio.Event()
        self._booted = asyncio.Event()
        self.on("FullyBooted", lambda _: self._booted.set())
        self._task: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._stopping = False

    # ---- registration -----------------------------------------------------------------------------
    def on(self, event: str, handler: EventHandler) -> None:
        """Call ``handler(fields)`` for each event named exactly ``event``. Handlers of one event share one
        dict: they must not change it."""
        self._handlers.setdefault(event.encode(), []).append(handler)

    def on_connected(self, handler: StateHandler) -> None:
        self._on_connected.append(handler)

    @property
    def handled_events(self) -> list[str]:
        """The names some handler takes: the whitelist Asterisk filters the session's events by."""
        return sorted(name.decode() for name in self._handlers)

    def on_disconnected(self, handler: StateHandler) -> None:
        self._on_disconnected.append(handler)

    # ---- state --------------------------------------------------------------------------------------
    @property
    def connected(self) -> bool:
        return self._logged_in.is_set()

    async def wait_connected(self, timeout: float) -> bool:
        try:
            await asyncio.wait_for(self._logged_in.wait(), timeout)
            return True
        except TimeoutError:
            return False

    async def start(self) -> None:
        self._stopping = False
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run(), name="ami")

    async def stop(self) -> None:
        self._stopping = True
        if self._conn is not None:
            self._conn.close()
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
            self._task = None
        for task in list(self._tasks):
            task.cancel()

    # ---- actions ------------------------------------------------------------------------------------
    async def action(self, name: str, as_list: bool = False, **fields: Any) -> dict[str, Any]:
        """Send one action and return its response; raise on error, timeout or no connection.

        ``as_list`` for actions answered by an event list (QueueStatus, …): the response then carries the
        list's events under ``events``, complete once an event says ``EventList: Complete``. It must be
        explicit: nothing in a response says for sure that a list follows.
        """
        if not self.connected:
            raise AmiUnavailable(f"AMI not connected, cannot send {name}")
        return await self._send(name, as_list, fields)

    async def _send(self, name: str, as_list: bool, fields: dict[str, Any]) -> dict[str, Any]:
        conn = self._conn
        if conn is None:
            raise AmiUnavailable(f"AMI not connected, cannot send {name}")
        action_id = f"{self._id_prefix}{next(self._ids)}"
        wire = {"Action": name, "ActionID": action_id}
        wire.update({k: str(v) for k, v in fields.items() if v is not None})
        data = encode_action(wire)
        pending = _Pending(name, as_list, asyncio.get_running_loop().create_future())
        self._pending[action_id] = pending
        if as_list:
            self._lists[action_id] = pending
        try:
            conn.write(data)
            return await asyncio.wait_for(asyncio.shield(pending.future), self.action_timeout)
        except TimeoutError as e:
            raise AmiActionError(name, "no response from Asterisk") from e
        except ConnectionError as e:
            raise AmiUnavailable(f"AMI connection lost, {name} not answered") from e
        finally:
            self._pending.pop(action_id, None)
            self._lists.pop(action_id, None)

    # ---- the read path ----------------------------------------------------------------------------
    def _feed(self, data: bytes) -> None:
        """Every block received: events by name to their handlers, responses to their actions."""
        handlers_by_name = self._handlers
        lists = self._lists
        for block in self._framer.feed(data):
            if block[:7] == b"Event: ":
                self.events_received += 1
                if lists and b"\r\nActionID: " in block and self._list_event(block):
                    continue
                eol = block.find(b"\r\n", 7)
                name = block[7:eol] if eol >= 0 else block[7:]
                handlers = handlers_by_name.get(name)
                if handlers is None:
                    continue
                self._dispatch(parse(block), handlers)
            elif block.startswith(RESPONSE_PREFIX):
                self._response(parse(block))
            elif block:
                self._odd_block(block)

    def _odd_block(self, block: bytes) -> None:
        """A block not led by Event or Response: the greeting glued to the first response, stray CRLFs, or
        garbage. Parsed in full; whatever it holds is handled as such."""
        fields = parse(block)
        if "Event" in fields:
            self.events_received += 1
            if fields.get("ActionID") in self._lists:
                self._list_item(fields)
                return
            handlers = self._handlers.get(fields["Event"].encode())
            if handlers is not None:
                self._dispatch(fields, handlers)
        elif "Response" in fields:
            self._response(fields)
        elif not block.startswith(b"Asterisk Call Manager/"):
            self.garbage += 1
            if self.garbage <= 10 or self.garbage % 1000 == 0:
                log.warning("AMI block neither event nor response ignored", head=block[:60], seen=self.garbage)

    def _dispatch(self, fields: dict[str, str], handlers: list[EventHandler]) -> None:
        self.events_dispatched += 1
        for handler in handlers:
            try:
                result = handler(fields)
            except Exception:
                log.exception("AMI event handler failed", ami_event=fields.get("Event"), handler=_name(handler))
                continue
            if result is not None and asyncio.iscoroutine(result):
                self._spawn(result, handler)

    def _list_event(self, block: bytes) -> bool:
        fields = parse(block)
        if fields.get("ActionID") not in self._lists:
            return False
        self._list_item(fields)
        return True

    def _list_item(self, fields: dict[str, str]) -> None:
        pending = self._lists[fields["ActionID"]]
        if fields.get("EventList", "").lower() == "complete":
            self._lists.pop(fields["ActionID"], None)
            head: dict[str, Any] = pending.head if pending.head is not None else {"Response": "Success"}
            head["events"] = pending.events
            if not pending.future.done():
                pending.future.set_result(head)
        else:
            pending.events.append(fields)

    def _response(self, fields: dict[str, str]) -> None:
        pending = self._pending.get(fields.get("ActionID", ""))
        if pending is None or pending.future.done():
            return
        failed = fields.get("Response", "").lower() == "error"
        if failed:
            pending.future.set_exception(AmiActionError(pending.name, fields.get("Message", "error")))
        elif pending.as_list and fields.get("EventList", "").lower() != "complete":
            pending.head = dict(fields)  # the list's events follow
        else:
            pending.future.set_result(dict(fields))

    # ---- the connection ---------------------------------------------------------------------------
    async def _run(self) -> None:
        delay = BACKOFF_FIRST
        loop = asyncio.get_running_loop()
        while not self._stopping:
            conn: _Connection | None = None
            try:
                self._framer = Framer()
                _, opened = await asyncio.wait_for(
                    loop.create_connection(lambda: _Connection(self._feed, self._fail_pending), self.host, self.port),
                    self.action_timeout,
                )
                self._conn = conn = opened
                await self._login()
                delay = BACKOFF_FIRST
                await self._serve(opened)
            except asyncio.CancelledError:
                raise
            except (OSError, TimeoutError, AmiActionError, AmiUnavailable) as e:
                log.warning("AMI connection failed; retrying", error=repr(e), retry_in=delay)
            finally:
                self._drop(conn)
            if self._stopping:
                break
            await asyncio.sleep(delay)
            delay = min(delay * 2, BACKOFF_MAX)

    async def _login(self) -> None:
        """Log in, then wait until Asterisk says it is fully booted: a freshly restarted Asterisk accepts AMI
        logins before its modules are loaded (QueueStatus is then an "unknown command"), and the connected
        handlers would sync against an Asterisk that cannot answer yet."""
        self._booted.clear()
        try:
            await self._send("Login", False, {"Username": self.username, "Secret": self.secret, "Events": "on"})
        except AmiActionError as e:
            log.error("AMI login refused", error=e.message, username=self.username)
            raise
        try:
            await asyncio.wait_for(self._booted.wait(), self.boot_timeout)
        except TimeoutError:
            log.warning("Asterisk never said it was fully booted; going on", waited=self.boot_timeout)
        log.info("AMI logged in", host=self.host, port=self.port)
        self._logged_in.set()
        for handler in self._on_connected:
            self._call_state_handler(handler)

    async def _serve(self, conn: _Connection) -> None:
        """Until the connection drops: a Ping every ``ping_interval``; one unanswered means a dead peer."""
        while True:
            try:
                await asyncio.wait_for(asyncio.shield(conn.lost), self.ping_interval)
                log.warning("AMI connection closed by Asterisk; reconnecting")
                return
            except TimeoutError:
                pass
            try:
                await self._send("Ping", False, {})
            except AmiActionError:
                log.warning("AMI ping unanswered; reconnecting")
                return

    def _drop(self, conn: _Connection | None) -> None:
        was_logged_in = self._logged_in.is_set()
        self._logged_in.clear()
        if conn is not None:
            conn.close()
        self._conn = None
        self._fail_pending()
        if was_logged_in:
            for handler in self._on_disconnected:
                self._call_state_handler(handler)

    def _fail_pending(self) -> None:
        """The connection is gone: actions waiting on it fail now rather than at their timeout."""
        for pending in list(self._pending.values()):
            if not pending.future.done():
                pending.future.set_exception(ConnectionResetError("AMI connection lost"))
        self._pending.clear()
        self._lists.clear()

    # ---- helpers ------------------------------------------------------------------------------------
    def _call_state_handler(self, handler: StateHandler) -> None:
        try:
            result = handler()
        except Exception:
            log.exception("AMI state handler failed", handler=_name(handler))
            return
        if result is not None and asyncio.iscoroutine(result):
            self._spawn(result, handler)

    def _spawn(self, coro: Any, handler: object) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(lambda t: self._task_done(t, handler))

    def _task_done(self, task: asyncio.Task[Any], handler: object) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("AMI handler task failed", handler=_name(handler), error=repr(task.exception()))


def _name(handler: object) -> str:
    return str(getattr(handler, "__qualname__", handler))
