"""Per-(queue, org) lanes in Redis: where jobs wait before the Dramatiq queue.

Producers push into their org's lane; worker processes *admit* jobs round-robin across orgs
(weighted) into the Dramatiq queue, keeping it shallow, so one tenant's 100k backlog cannot
starve another tenant. Everything that waits — ``not_before``, retry backoff, rate-limit
deferrals — waits in the queue's ``waiting`` sorted set, scored by due time (Redis clock),
and returns to its lane when due; worker memory holds none of it.

Admitted jobs pass through a ``transit`` set with a lease until they are in the Dramatiq
queue: a worker that dies between the two writes loses nothing, the lease expires and the
next admission puts the job back in its lane (at-least-once). All keys of one queue share
one hash tag, ``{<namespace>:q:<queue>}``, so every script touches one tag only.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib.resources import files
from typing import Any

from redis import Redis

DEFAULT_LEASE_MS = 30_000
MAX_MOVES_PER_ADMIT = 1_000


def _script(name: str) -> str:
    return files("workers").joinpath("lua", name).read_text()


@dataclass(frozen=True)
class LaneDepth:
    """How many jobs of a queue wait where (for the exporter and for tests)."""

    laned: int
    waiting: int
    transit: int
    orgs: int

    @property
    def total(self) -> int:
        return self.laned + self.waiting + self.transit


class Lanes:
    """The lane store of one Redis (one namespace); thread-safe."""

    def __init__(self, redis: Redis, namespace: str) -> None:
        self.redis = redis
        self.namespace = namespace
        self._push = redis.register_script(_script("lanes_push.lua"))
        self._admit = redis.register_script(_script("lanes_admit.lua"))
        self._confirm = redis.register_script(_script("lanes_confirm.lua"))

    def prefix(self, queue: str) -> str:
        """The hash-tagged key prefix of a queue's lanes."""
        return "{" + f"{self.namespace}:q:{queue}" + "}"

    def push(
        self,
        queue: str,
        job_id: str,
        data: bytes,
        *,
        org: str,
        priority: int,
        weight: int = 1,
        delay_ms: int = 0,
    ) -> bool:
        """Put a job in its org's lane, or in the waiting set for ``delay_ms``.

        Returns True when the job is laned (due now), False when it waits.
        """
        laned, _entry = self._push(
            keys=[self.prefix(queue)],
            args=[job_id, data, org, priority, max(0, int(delay_ms)), weight],
        )
        return bool(laned)

    def admit(
        self, queue: str, batch: int, *, lease_ms: int = DEFAULT_LEASE_MS
    ) -> list[tuple[str, bytes]]:
        """Take up to ``batch`` ``(entry id, message)`` pairs, fairly across orgs, leased
        until :meth:`confirm` (entry ids are ``<job id>:<sequence>``)."""
        if batch <= 0:
            return []
        flat: list[Any] = self._admit(
            keys=[self.prefix(queue)], args=[batch, lease_ms, MAX_MOVES_PER_ADMIT]
        )
        return [(_text(flat[i]), flat[i + 1]) for i in range(0, len(flat), 2)]

    def confirm(self, queue: str, entries: list[str]) -> None:
        """Forget admitted entries that reached the Dramatiq queue."""
        if entries:
            self._confirm(keys=[self.prefix(queue)], args=entries)

    def set_weight(self, queue: str, org: str, weight: int) -> None:
        self.redis.hset(self.prefix(queue) + ":weights", org, weight)

    def depth(self, queue: str) -> LaneDepth:
        """Counts per state; cost is one call per active org (bounded by active orgs)."""
        p = self.prefix(queue)
        orgs = [_text(o) for o in self.redis.smembers(p + ":active")]
        pipe = self.redis.pipeline(transaction=False)
        for org in orgs:
            pipe.zcard(f"{p}:lane:{org}")
        pipe.zcard(p + ":waiting")
        pipe.zcard(p + ":transit")
        counts = pipe.execute()
        return LaneDepth(
            laned=sum(counts[: len(orgs)]),
            waiting=counts[-2],
            transit=counts[-1],
            orgs=len(orgs),
        )


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
