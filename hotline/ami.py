"""The AMI connection: panoramisk's Manager, with reconnect, a clear connected/authenticated state,
typed errors for actions, and events dispatched to the handlers registered for their name.

Handlers register by exact event name (``on("AgentCalled", handler)``) and run synchronously in
arrival order. After each successful login the ``on_connected`` handlers run: that is the moment to
sync state (re-add queue members, read queue status), so a restarted Asterisk or controller converges.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from panoramisk import Manager
from panoramisk.ami_protocol import AMIProtocol
from panoramisk.message import Message

from hotline.logs import get_logger

log = get_logger(__name__)


class AmiUnavailable(RuntimeError):
    """No authenticated AMI session right now."""


class AmiActionError(RuntimeError):
    def __init__(self, action: str, message: str) -> None:
        super().__init__(f"{action}: {message}")
        self.action = action
        self.message = message


MAX_PENDING = 1 << 20  # an AMI message larger than 1 MiB is not a message: drop what is buffered


class HardenedAMIProtocol(AMIProtocol):
    """panoramisk's framing, made to survive a bad peer: a message that breaks its handling (a doubled
    ``Event`` header, say) is logged and skipped instead of killing the connection with the rest of the
    chunk, and an unterminated message cannot grow the buffer without bound."""

    def handle_message(self, message: Message) -> None:
        try:
            super().handle_message(message)
        except Exception as e:
            log.warning("malformed AMI message skipped", error=repr(e), headers=list(message.keys())[:10])

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self.queue and len(self.queue[0]) > MAX_PENDING:
            log.error("AMI message over 1 MiB without an end; dropped", size=len(self.queue[0]))
            self.queue.clear()


def flatten(message: Message) -> dict[str, Any]:
    """A plain dict of the message; a header repeated (panoramisk gives a list) keeps its first value, the
    channel's own (dialplan-supplied UserEvent headers come after it and must not shadow it)."""
    return {k: v[0] if isinstance(v, list) and v else v for k, v in message.items()}


AmiHandler = Callable[[dict[str, Any]], object]
Hook = Callable[[], object]


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
    ) -> None:
        self._handlers: dict[str, list[AmiHandler]] = defaultdict(list)
        self._connected_hooks: list[Hook] = []
        self._disconnected_hooks: list[Hook] = []
        self._tasks: set[asyncio.Task[Any]] = set()
        self.action_timeout = action_timeout
        self.events_received = 0
        self.manager = Manager(
            host=host,
            port=port,
            username=username,
            secret=secret,
            events="on",
            ping_delay=5,
            ping_interval=ping_interval,
            reconnect_timeout=1,
            on_login=self._on_login,
            on_disconnect=self._on_disconnect,
            forgetable_actions=("ping", "login"),
            protocol_factory=HardenedAMIProtocol,
        )
        self.manager.register_event("*", self._on_event)
        self._authenticated = asyncio.Event()

    def on(self, event: str, handler: AmiHandler) -> None:
        """Call ``handler(event_dict)`` for every AMI event named ``event``, in arrival order."""
        self._handlers[event].append(handler)

    def on_connected(self, hook: Hook) -> None:
        self._connected_hooks.append(hook)

    def on_disconnected(self, hook: Hook) -> None:
        self._disconnected_hooks.append(hook)

    @property
    def handled_events(self) -> list[str]:
        return sorted(self._handlers)

    def _run_hooks(self, hooks: list[Hook]) -> None:
        for hook in hooks:
            try:
                result = hook()
            except Exception:
                log.exception("AMI hook failed", hook=getattr(hook, "__qualname__", ""))
                continue
            if asyncio.iscoroutine(result):
                task = asyncio.ensure_future(result)
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)

    @property
    def connected(self) -> bool:
        return self._authenticated.is_set()

    async def start(self) -> None:
        self.manager.loop = asyncio.get_running_loop()
        self.manager.connect()

    async def stop(self) -> None:
        self._authenticated.clear()
        self.manager.close()
        # panoramisk schedules a reconnect when the connection drops: make sure it finds nothing to do
        self.manager.connect = lambda *a, **k: None  # type: ignore[method-assign]

    async def wait_connected(self, timeout: float) -> bool:
        try:
            await asyncio.wait_for(self._authenticated.wait(), timeout)
            return True
        except TimeoutError:
            return False

    def _on_login(self, manager: Manager) -> None:
        log.info("AMI logged in")
        self._authenticated.set()
        self._run_hooks(self._connected_hooks)

    def _on_disconnect(self, manager: Manager, exc: Exception | None) -> None:
        log.warning("AMI connection lost; reconnecting", error=repr(exc))
        self._authenticated.clear()
        self._run_hooks(self._disconnected_hooks)

    def _on_event(self, manager: Manager, message: Message) -> None:
        self.events_received += 1
        handlers = self._handlers.get(message.get("Event") or "")
        if not handlers:
            return
        event = flatten(message)
        for handler in handlers:
            try:
                handler(event)
            except Exception:
                log.exception("AMI event handler failed", ami_event=event.get("Event"))

    async def action(self, name: str, as_list: bool = False, **fields: Any) -> dict[str, Any]:
        """Send one action and return its response; raise on error, timeout or no connection.

        ``as_list`` for actions answered by an event list (QueueStatus, …): the response then
        carries the list's events under ``events``. It must be explicit: panoramisk guesses from the
        response text otherwise, and guesses QueueAdd wrong (it would wait forever).
        """
        if not self.connected or self.manager.protocol is None:
            raise AmiUnavailable(f"AMI not connected, cannot send {name}")
        request = {"Action": name, **{k: v for k, v in fields.items() if v is not None}}
        try:
            response = await asyncio.wait_for(self.manager.send_action(request, as_list=as_list), self.action_timeout)
        except TimeoutError as e:
            raise AmiActionError(name, "no response from Asterisk") from e
        if isinstance(response, list):  # event lists: the first message is the response
            head = dict(response[0].items()) if response else {}
            head["events"] = [dict(m.items()) for m in response[1:]]
            response_dict = head
        else:
            response_dict = dict(response.items())
        if str(response_dict.get("Response", "")).lower() == "error":
            raise AmiActionError(name, str(response_dict.get("Message", "error")))
        return response_dict
