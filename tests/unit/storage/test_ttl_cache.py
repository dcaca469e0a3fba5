"""The read-through TTL cache behind OrgDirectory and AccountDirectory."""

from __future__ import annotations

from storage.ttl_cache import TtlCache


def test_a_value_is_reused_until_it_expires_then_reloaded() -> None:
    """Within the TTL the loader is not called again; after it, it is."""
    now = [100.0]
    cache: TtlCache[str, int] = TtlCache(30.0, clock=lambda: now[0])
    loads: list[int] = []

    def load() -> int:
        loads.append(1)
        return len(loads)

    assert cache.get_or_load("a", load) == 1
    now[0] += 29.0
    assert cache.get_or_load("a", load) == 1
    now[0] += 2.0
    assert cache.get_or_load("a", load) == 2


def test_a_miss_is_not_cached() -> None:
    """None (not found) is asked again next time, so a new row is seen at once."""
    cache: TtlCache[str, int] = TtlCache(30.0)
    answers = iter([None, 7])
    assert cache.get_or_load("k", lambda: next(answers)) is None
    assert cache.get_or_load("k", lambda: next(answers)) == 7
