"""Per-endpoint gates in Redis: a concurrency limit (1 = one at a time) and a rate limit.

Both answer at once, never block: a closed gate makes the job wait in Redis (deferred,
no attempt spent) rather than hold a worker thread. Concurrency slots are leases in a sorted
set, scored by expiry, so a worker killed mid-delivery frees its slot when the lease ends.
"""

from __future__ import annotations

import time

from redis import Redis

# KEYS[1] slots; ARGV: now_ms, lease_until_ms, limit, job id. 1 = slot held, 0 = full.
_ACQUIRE = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
if redis.call('ZSCORE', KEYS[1], ARGV[4]) or redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[3]) then
  redis.call('ZADD', KEYS[1], ARGV[2], ARGV[4])
  redis.call('PEXPIREAT', KEYS[1], ARGV[2])
  return 1
end
return 0
"""


class EndpointGates:
    """Concurrency and rate gates of webhook endpoints, shared by every worker."""

    def __init__(self, redis: Redis, namespace: str) -> None:
        self.redis = redis
        self.namespace = namespace

    def acquire(self, endpoint_id: str, job_id: str, *, limit: int, lease_ms: int) -> bool:
        """Take one of the endpoint's ``limit`` slots for ``job_id``; False when all are held."""
        now = int(time.time() * 1000)
        key = self._key("slots", endpoint_id)
        return bool(self.redis.eval(_ACQUIRE, 1, key, now, now + lease_ms, limit, job_id))

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
        return f"{self.namespace}:webhook:{kind}:{suffix}"
