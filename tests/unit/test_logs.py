"""Log hygiene."""

from __future__ import annotations

import logging

from hotline.logs import RedactSecrets


def test_desk_tokens_are_redacted_from_server_log_lines() -> None:
    record = logging.LogRecord(
        "uvicorn.error",
        logging.INFO,
        __file__,
        1,
        '%s - "WebSocket %s" [accepted]',
        ("127.0.0.1:5", "/ws/agent?token=eyJzdWIi.c2ln&x=1"),
        None,
    )
    assert RedactSecrets().filter(record) is True
    assert record.getMessage() == '127.0.0.1:5 - "WebSocket /ws/agent?token=[redacted]&x=1" [accepted]'
    other = logging.LogRecord("hotline.x", logging.INFO, __file__, 1, "token=abc", None, None)
    RedactSecrets().filter(other)
    assert other.getMessage() == "token=abc"  # only the server's own lines are rewritten
