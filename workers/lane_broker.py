"""Dramatiq's Redis broker, with consumers that admit from the lanes when they fetch.

A background pump topping queues up is a race consumers lose under load: a consumer finding
its queue empty is backed off by Dramatiq (up to ``worker_timeout``) although the lanes hold
thousands of jobs, and every process's consumers compete for one shallow queue. So a fetch
first admits, by the fair and atomic script of :mod:`workers.lanes`, as many jobs as the
consumer has room for; then Dramatiq's own fetch takes them. The queue is never deeper than
one fetch, and a busy worker never idles.
"""

from __future__ import annotations

from typing import Any

from dramatiq.brokers.redis import RedisBroker

from workers.lanes import Lanes


class LaneFedBroker(RedisBroker):
    """A :class:`RedisBroker` whose consumers admit from ``lanes`` before each fetch."""

    def __init__(self, *, lanes: Lanes, **options: Any) -> None:
        super().__init__(**options)  # type: ignore[no-untyped-call]
        self.lanes = lanes

    def do_fetch(self, queue_name: str, prefetch: int) -> list[bytes]:
        # Delay queues (``<queue>.DQ``) have no lanes: Switchyard never delays in Dramatiq.
        if "." not in queue_name:
            self.lanes.admit(queue_name, prefetch)
        fetched: list[bytes] = self._dispatch("fetch")(queue_name, prefetch)  # type: ignore[no-untyped-call]
        return fetched
