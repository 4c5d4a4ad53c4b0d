"""A small look-up cache: entries live ``ttl`` seconds, at most ``size`` of them (least recently used
go first). It remembers misses too: an unknown caller is not asked about again on every call."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Generic, TypeVar

V = TypeVar("V")


class TtlCache(Generic[V]):
    def __init__(self, size: int, ttl: float, clock: Callable[[], float] = time.monotonic) -> None:
        if size < 1 or ttl <= 0:
            raise ValueError("size >= 1 and ttl > 0")
        self.size = size
        self.ttl = ttl
        self.clock = clock
        self._items: OrderedDict[str, tuple[float, V]] = OrderedDict()
        self.hits = 0
        self.misses = 0

    def get(self, key: str) -> tuple[bool, V | None]:
        """(True, value) when a fresh entry is there, else (False, None)."""
        item = self._items.get(key)
        if item is None or item[0] <= self.clock():
            if item is not None:
                del self._items[key]
            self.misses += 1
            return False, None
        self._items.move_to_end(key)
        self.hits += 1
        return True, item[1]

    def put(self, key: str, value: V) -> None:
        self._items[key] = (self.clock() + self.ttl, value)
        self._items.move_to_end(key)
        while len(self._items) > self.size:
            self._items.popitem(last=False)

    def __len__(self) -> int:
        return len(self._items)
