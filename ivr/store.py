"""The menu in use, reloaded without a restart.

The file is checked for a change every few seconds (and on the admin route); a changed file is validated
and its prompts rendered (in a thread) before the new version replaces the old one. A bad file keeps the
last good version in use and its error is reported (log, /healthz, the admin route). A call holds the
``Version`` it started with, so a reload never changes a call in progress.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from hotline.logs import get_logger
from ivr.audio import PromptBook, build_book
from ivr.menu import Menu, MenuError, parse_menu

log = get_logger(__name__)


@dataclass(frozen=True)
class Version:
    menu: Menu
    book: PromptBook
    loaded_at: datetime


@dataclass(frozen=True)
class ReloadReport:
    changed: bool
    version: str
    error: str | None


class MenuStore:
    def __init__(
        self,
        path: Path,
        prompts_dir: Path,
        known_queues: Callable[[], Iterable[str]],
        build: Callable[[Menu, Path], PromptBook] = build_book,
    ) -> None:
        self.path = path
        self.prompts_dir = prompts_dir
        self.known_queues = known_queues
        self.build = build
        self._current: Version | None = None
        self._digest: str | None = None  # of the last file read, good or bad
        self.error: str | None = None
        self.error_at: datetime | None = None
        self.reloads = 0
        self._lock = asyncio.Lock()

    @property
    def current(self) -> Version:
        if self._current is None:
            raise RuntimeError("the menu is not loaded yet")
        return self._current

    def load_now(self) -> Version:
        """The first load (blocking; at start-up a bad file is fatal: there is no last good version)."""
        text = self.path.read_text(encoding="utf-8")
        menu = parse_menu(text, str(self.path), self.known_queues())
        self._current = Version(menu, self.build(menu, self.prompts_dir), datetime.now(UTC))
        self._digest = _digest(text)
        return self._current

    async def loaded(self) -> Version:
        """The current version, loading the file first if nothing is loaded yet."""
        if self._current is None:
            async with self._lock:
                if self._current is None:
                    await asyncio.to_thread(self.load_now)
        return self.current

    async def reload(self, force: bool = False) -> ReloadReport:
        """Read the file again; use it if it changed and is valid, else keep the current version."""
        await self.loaded()
        async with self._lock:
            try:
                text = await asyncio.to_thread(self.path.read_text, encoding="utf-8")
            except OSError as e:
                return self._failed(f"{self.path}: cannot read: {e}")
            digest = _digest(text)
            if digest == self._digest and not force:
                return ReloadReport(False, self.current.menu.version, self.error)
            self._digest = digest
            try:
                menu = parse_menu(text, str(self.path), self.known_queues())
                book = await asyncio.to_thread(self.build, menu, self.prompts_dir)
            except MenuError as e:
                return self._failed(str(e))
            except Exception as e:  # the synthesiser failed: the new prompts cannot be played
                return self._failed(f"{self.path}: prompts not rendered: {e!r}")
            changed = menu.version != self.current.menu.version
            self._current = Version(menu, book, datetime.now(UTC))
            self.error = self.error_at = None
            if changed:
                self.reloads += 1
                log.info("IVR menu reloaded", version=menu.version, file=str(self.path))
            return ReloadReport(changed, menu.version, None)

    def _failed(self, error: str) -> ReloadReport:
        self.error, self.error_at = error, datetime.now(UTC)
        log.error("IVR menu not reloaded; the last good version stays in use", error=error)
        return ReloadReport(False, self.current.menu.version, error)

    def health(self) -> dict[str, object]:
        return {
            "menu_version": self._current.menu.version if self._current else None,
            "menu_file": str(self.path),
            "menu_reloads": self.reloads,
            "menu_error": self.error,
            "menu_error_at": self.error_at.isoformat() if self.error_at else None,
        }


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()
