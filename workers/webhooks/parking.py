"""Where deliveries of ordered endpoints wait for their predecessor, in Redis.

Per endpoint, under one hash tag: ``parked`` (a set of delivery ids whose job ended
waiting) and ``taken`` (delivery id -> the job that woke it and owns it until its job is
running or enqueued again). Taking moves a delivery from one to the other atomically, so
exactly one waker gets it, and a waker that dies holding one is found by its job id when
that job is redelivered.
"""

from __future__ import annotations

from redis import Redis

# KEYS[1] parked, KEYS[2] taken; ARGV: delivery id, owner job id. 1 = taken by this owner.
_TAKE = """
if redis.call('SREM', KEYS[1], ARGV[1]) == 1 then
  redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
  return 1
end
return 0
"""


class ParkedDeliveries:
    """The parked and taken deliveries of every ordered endpoint, shared by all workers."""

    def __init__(self, redis: Redis, namespace: str) -> None:
        self.redis = redis
        self.namespace = namespace
        self._take = redis.register_script(_TAKE)

    def park(self, endpoint_id: str, delivery_id: str) -> None:
        self.redis.sadd(self._key(endpoint_id, "parked"), delivery_id)

    def unpark(self, endpoint_id: str, delivery_id: str) -> bool:
        """True when the delivery was still parked (nobody woke it): its own job goes on."""
        return bool(self.redis.srem(self._key(endpoint_id, "parked"), delivery_id))

    def take(self, endpoint_id: str, delivery_id: str, owner: str) -> bool:
        """True for the one caller that moves the delivery from parked to taken by ``owner``."""
        keys = [self._key(endpoint_id, "parked"), self._key(endpoint_id, "taken")]
        return bool(self._take(keys=keys, args=[delivery_id, owner]))

    def release(self, endpoint_id: str, delivery_id: str) -> None:
        """The taken delivery's job runs or waits in the queue again: forget the owner."""
        self.redis.hdel(self._key(endpoint_id, "taken"), delivery_id)

    def taken_by(self, endpoint_id: str, owner: str) -> list[str]:
        """Deliveries ``owner`` took and did not release (it died holding them)."""
        held = self.redis.hgetall(self._key(endpoint_id, "taken"))
        return [_text(delivery) for delivery, by in held.items() if _text(by) == owner]

    def count(self, endpoint_id: str) -> int:
        return int(self.redis.scard(self._key(endpoint_id, "parked")))

    def _key(self, endpoint_id: str, kind: str) -> str:
        return "{" + f"{self.namespace}:webhook:{endpoint_id}" + "}:" + kind


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
