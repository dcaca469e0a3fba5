"""A clock the limiter's scripts read instead of the Redis server's, so limiter tests step
time instead of sleeping on it."""

from __future__ import annotations

import pytest


class Clock:
    """A clock (ms) the limiter's scripts read instead of the server's: tests step it."""

    def __init__(self, ms: int = 1_790_000_000_000) -> None:
        self.ms = ms

    def __call__(self) -> int:
        return self.ms

    def advance(self, ms: int) -> None:
        self.ms += ms


@pytest.fixture
def clock() -> Clock:
    return Clock()
