"""A small per-process read-through cache for lookups that change rarely (orgs, accounts).

Entries live a fixed time: a stale answer for a few seconds is acceptable where this is used,
and a lookup per job is not. ``None`` is never cached, so a row created a moment after a miss
is found at once.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class TtlCache(Generic[K, V]):
    """``key -> value`` kept ``ttl_seconds`` after loading; safe to share between threads."""

    def __init__(self, ttl_seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl_seconds = ttl_seconds
        self._clock = clock
        self._entries: dict[K, tuple[float, V]] = {}
        self._lock = threading.Lock()

    def get_or_load(self, key: K, load: Callable[[], V | None]) -> V | None:
        """The fresh cached value for ``key``, else ``load()`` (cached unless None)."""
        now = self._clock()
        with self._lock:
            hit = self._entries.get(key)
        if hit is not None and hit[0] > now:
            return hit[1]
        value = load()
        if value is not None:
            with self._lock:
                self._entries[key] = (now + self.ttl_seconds, value)
        return value
