"""Rows fitted to their columns: a caller-controlled string longer than its column is cut, never a failed write.

PostgreSQL refuses a value longer than ``varchar(n)`` (and any NUL character in text), which would turn
one odd caller id into a permanently undeliverable record. Each over-long column is logged once.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import String
from sqlalchemy.sql import FromClause

from hotline.logs import get_logger

log = get_logger(__name__)

_reported: set[tuple[str, str]] = set()
_limits_of: dict[FromClause, dict[str, int | None]] = {}


def _limits(table: FromClause) -> dict[str, int | None]:
    """Each text column's length limit (None: unbounded text)."""
    cached = _limits_of.get(table)
    if cached is None:
        cached = {c.name: c.type.length for c in table.columns if isinstance(c.type, String)}
        _limits_of[table] = cached
    return cached


def fit_row(table: FromClause, row: dict[str, Any]) -> dict[str, Any]:
    """A copy of ``row`` whose strings fit ``table``'s columns (cut to length, NULs removed)."""
    limits = _limits(table)
    fitted = dict(row)
    for name, value in row.items():
        if not isinstance(value, str) or name not in limits:
            continue
        if "\x00" in value:
            value = value.replace("\x00", "")
        limit = limits[name]
        if limit is not None and len(value) > limit:
            key = (str(getattr(table, "name", table)), name)
            if key not in _reported:
                _reported.add(key)
                log.warning("value longer than its column: cut", table=key[0], column=name, length=len(value))
            value = value[:limit]
        fitted[name] = value
    return fitted
