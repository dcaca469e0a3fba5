"""Where deliveries of ordered endpoints wait for their predecessor, in Redis.

Per endpoint, under one hash tag: ``parked`` (delivery id -> the id of its job, which ended
waiting) and ``taken`` (delivery id -> ``<owner job id>|<its job id>``: the job that woke it
owns it until its job runs or is enqueued again). Taking moves a delivery from one to the
other atomically, so exactly one waker gets it, and a waker that dies holding one is found
by its job id when that job is redelivered. Parking writes nothing to the database: a
backlog of thousands parks without contending with the deliveries under way.

The parked entry lives on another master than the job's message: with durable enqueue on it
is confirmed by the replicas before the job ends and its message is acknowledged, or a
failover could keep the acknowledgement and lose the entry, and the endpoint's later events
would wait behind a delivery nobody wakes (:mod:`queueing.replication`).
"""

from __future__ import annotations

from redis import Redis

from contract.envelope import Kind
from queueing import keys, scripts
from queueing.replication import Durability, NotReplicated, shortfall, write_on_replicas
from workers.scheduling import unreplicated


class ParkedDeliveries:
    """The parked and taken deliveries of every ordered endpoint, shared by all workers."""

    def __init__(self, redis: Redis, namespace: str, durability: Durability | None = None) -> None:
        self.redis = redis
        self.namespace = namespace
        self.durability = durability or Durability()
        self._take = scripts.register(redis, "webhook_take_parked.lua")

    def park(self, endpoint_id: str, delivery_id: str, job_id: str) -> None:
        key = self._key(endpoint_id, "parked")
        if not self.durability.replicas:
            self.redis.hset(key, delivery_id, job_id)
            return
        _, confirmed = write_on_replicas(
            self.redis, key, self.durability, lambda pipe: pipe.hset(key, delivery_id, job_id)
        )
        if confirmed < self.durability.replicas:
            exc: NotReplicated = shortfall(self.durability, confirmed, "the parked delivery")
            unreplicated(Kind.DELIVER.value, job_id, exc)

    def unpark(self, endpoint_id: str, delivery_id: str) -> bool:
        """True when the delivery was still parked (nobody woke it): its own job goes on."""
        return bool(self.redis.hdel(self._key(endpoint_id, "parked"), delivery_id))

    def take(self, endpoint_id: str, delivery_id: str, owner: str) -> str | None:
        """The parked delivery's job id, for the one caller that moves it to taken by
        ``owner``; None for everyone else (or when it is not parked)."""
        pair = [self._key(endpoint_id, "parked"), self._key(endpoint_id, "taken")]
        job = self._take(keys=pair, args=[delivery_id, owner])
        return None if job is None else _text(job)

    def release(self, endpoint_id: str, delivery_id: str) -> None:
        """The taken delivery's job runs or waits in the queue again: forget the owner."""
        self.redis.hdel(self._key(endpoint_id, "taken"), delivery_id)

    def taken_by(self, endpoint_id: str, owner: str) -> list[tuple[str, str]]:
        """(delivery id, its job id) of what ``owner`` took and did not release (it died)."""
        held = self.redis.hgetall(self._key(endpoint_id, "taken"))
        found = []
        for delivery, value in held.items():
            by, _, job = _text(value).partition("|")
            if by == owner:
                found.append((_text(delivery), job))
        return found

    def count(self, endpoint_id: str) -> int:
        return int(self.redis.hlen(self._key(endpoint_id, "parked")))

    def _key(self, endpoint_id: str, kind: str) -> str:
        return keys.webhook_endpoint(self.namespace, endpoint_id, kind)


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
