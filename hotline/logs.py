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


def setup_logging(level: str = "INFO", json: bool = False) -> None:
    shared: list[structlog.typing.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=False),
    ]
    renderer: structlog.typing.Processor = (
        structlog.processors.JSONRenderer() if json else structlog.dev.ConsoleRenderer(colors=False)
    )
    structlog.configure(
        # a line below the level costs one check, not the whole chain
        processors=[structlog.stdlib.filter_by_level, *shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
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


def get_logger(name: str) -> structlog.stdlib.BoundLogger:
    return structlog.get_logger(name)


@contextmanager
def bind_call(uniqueid: str) -> Iterator[None]:
    """Tag every log line in this block (and the tasks it awaits) with the call's unique id."""
    with structlog.contextvars.bound_contextvars(call=uniqueid):
        yield
