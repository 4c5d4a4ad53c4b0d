"""The IVR's own settings (``HOTLINE_IVR_*`` environment variables): which menu file, how often to look
for a change, and the clock the menu's hours are judged by (a test or a rehearsal sets it)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from pydantic import field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from ivr.menu import DEFAULT_MENU


class IvrSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="HOTLINE_IVR_")

    menu: Path = DEFAULT_MENU
    reload_every: float = 2.0  # seconds between checks of the menu file
    clock: datetime | None = None  # the IVR's "now" at start (it runs on from there); None: the real time
    clock_file: Path | None = None  # a file holding an ISO instant: the IVR's "now" while it exists

    @field_validator("clock")
    @classmethod
    def _aware(cls, v: datetime | None) -> datetime | None:
        if v is not None and v.tzinfo is None:
            raise ValueError("HOTLINE_IVR_CLOCK needs a time zone, e.g. 2026-11-28T23:00:00+08:00")
        return v

    def make_clock(self) -> Callable[[], datetime]:
        start, real_start = self.clock, datetime.now(UTC)
        clock_file = self.clock_file

        def now() -> datetime:
            if clock_file is not None:
                try:
                    return datetime.fromisoformat(clock_file.read_text().strip())
                except (OSError, ValueError):
                    pass
            if start is not None:
                return start + (datetime.now(UTC) - real_start)
            return datetime.now(UTC)

        return now
