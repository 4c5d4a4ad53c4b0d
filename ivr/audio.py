"""The audio files a menu version plays: its prompts and the fragments, per language.

Built at set-up and at every reload (in a thread: synthesis is blocking work), before the version is used.
A text only known during the call (a station's address, a scan's place) is synthesised then, in a thread,
bounded, and cached like every prompt.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path

from hotline.bounded import bounded
from hotline.prompts import ensure_prompt, ensure_prompts, voice_for
from ivr.menu import Menu
from ivr.say import fragments

DYNAMIC_TIMEOUT = 3.0


@dataclass(frozen=True)
class PromptBook:
    directory: Path
    default_language: str
    prompts: dict[str, dict[str, Path]]  # language → name → path (without extension)
    fragments: dict[str, dict[str, Path]]  # language → fragment name → path

    def prompt(self, name: str, language: str) -> Path:
        book = self.prompts.get(language) or {}
        return book.get(name) or self.prompts[self.default_language][name]

    def fragment(self, name: str, language: str) -> Path | None:
        return (self.fragments.get(language) or {}).get(name) or self.fragments[self.default_language].get(name)

    async def text(self, text: str, language: str) -> Path:
        """A text rendered now (cached by hash); TimeoutError if the synthesiser is too slow."""
        return await bounded(
            asyncio.to_thread(ensure_prompt, text, self.directory, voice_for(language)), DYNAMIC_TIMEOUT
        )


def build_book(menu: Menu, directory: Path) -> PromptBook:
    """Render (or find in the cache) every prompt and fragment of every language of ``menu``."""
    prompts: dict[str, dict[str, Path]] = {}
    frags: dict[str, dict[str, Path]] = {}
    for lang in menu.languages:
        voice = voice_for(lang)
        texts = {name: t[lang] for name, t in menu.prompts.items() if lang in t}
        prompts[lang] = ensure_prompts(texts, directory, voice)
        frags[lang] = ensure_prompts(fragments(lang), directory, voice)
    return PromptBook(directory, menu.default_language, prompts, frags)
