"""Structured logging: every line about a call carries that call's unique id.

Bind it once where a call's work starts (``bind_call(uniqueid)``); structlog's contextvars carry it
through every await in that task.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager

import structlog

_SECRET_PARAM = re.compile(r"(token=)[^&\s\"']+")


class RedactSecrets(logging.Filter):
    """Desk tokens travel in the WebSocket URL; the server's access lines must not write them down."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name.startswith("uvicorn"):
            message = record.getMessage()
            if "token=" in message:
                record.msg, record.args = _SECRET_PARAM.sub(r"\1[redacted]", message), None
        return True


class _StderrLogger:
    """structlog's own lines straight to whatever ``sys.stderr`` is now (tests and benchmarks swap it): no
    ``logging.LogRecord`` and second formatting pass per line, which cost a call's worth of CPU in itself."""

    def msg(self, message: str) -> None:
        stream = sys.stderr
        stream.write(message + "\n")
        stream.flush()

    log = debug = info = warning = warn = error = critical = exception = fatal = msg


def setup_logging(level: str = "INFO", json: bool = False) -> None:
    """One format for every line: the controller's own through structlog's cheap path (filtered by level
    before any processor runs), foreign libraries' (uvicorn, asyncpg) through a stdlib handler that renders
    them the same way."""
    shared: list[structlog.typing.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=False),
    ]
    renderer: structlog.typing.Processor = (
        structlog.processors.JSONRenderer() if json else structlog.dev.ConsoleRenderer(colors=False)
    )
    finish: list[structlog.typing.Processor] = [structlog.processors.format_exc_info] if json else []
    structlog.configure(
        processors=[*shared, *finish, renderer],
        logger_factory=lambda *_: _StderrLogger(),
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        cache_logger_on_first_use=True,
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(RedactSecrets())
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
            foreign_pre_chain=shared,
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for noisy in ("panoramisk", "uvicorn.access", "sqlalchemy.engine"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def get_logger(name: str) -> structlog.typing.FilteringBoundLogger:
    return structlog.get_logger(name)  # type: ignore[no-any-return]


@contextmanager
def bind_call(uniqueid: str) -> Iterator[None]:
    """Tag every log line in this block (and the tasks it awaits) with the call's unique id."""
    with structlog.contextvars.bound_contextvars(call=uniqueid):
        yield
