"""Per-endpoint gates in Redis: a concurrency limit (1 = one at a time) and a rate limit.

Both answer at once, never block: a closed gate makes the job wait in Redis (deferred,
no attempt spent) rather than hold a worker thread. Concurrency slots are leases in a sorted
set, scored by expiry, so a worker killed mid-delivery frees its slot when the lease ends.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from redis import Redis

from queueing import keys, scripts


class EndpointGates:
    """Concurrency and rate gates of webhook endpoints, shared by every worker."""

    def __init__(
        self, redis: Redis, namespace: str, *, clock: Callable[[], int] | None = None
    ) -> None:
        """``clock`` (ms) stands in for the Redis server's clock in the slot script (tests);
        None: the server's, one clock for every worker."""
        self.redis = redis
        self.namespace = namespace
        self.clock = clock
        self._acquire = scripts.register(redis, "webhook_gate_acquire.lua")

    def acquire(self, endpoint_id: str, job_id: str, *, limit: int, lease_ms: int) -> bool:
        """Take one of the endpoint's ``limit`` slots for ``job_id``; False when all are held."""
        now = self.clock() if self.clock is not None else 0
        key = self._key("slots", endpoint_id)
        return bool(self._acquire(keys=[key], args=[now, lease_ms, limit, job_id]))

    def release(self, endpoint_id: str, job_id: str) -> None:
        """Give the slot back."""
        self.redis.zrem(self._key("slots", endpoint_id), job_id)

    def rate_wait_ms(self, endpoint_id: str, per_second: int) -> int:
        """0 when a send fits this second's budget (and counts it), else ms to the next second."""
        now = time.time()
        second = int(now)
        key = self._key("rate", f"{endpoint_id}:{second}")
        pipe = self.redis.pipeline()
        pipe.incr(key)
        pipe.expire(key, 2)
        count = int(pipe.execute()[0])
        if count <= per_second:
            return 0
        return max(1, int((second + 1 - now) * 1000))

    def _key(self, kind: str, suffix: str) -> str:
        return keys.webhook_gate(self.namespace, kind, suffix)
