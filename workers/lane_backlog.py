"""Per-org backlog of a queue's lanes, for ``GET /v1/queues`` and ``switchyard queues``.

Metrics leave the org out by design (cardinality); this reads the lanes directly, for one
org or all, without scripts: laned counts are O(1) per org; waiting and admitted jobs are
attributed to their org by reading at most ``scan_bound`` entries per lane shard (an org
lives in one shard, but a listing of all orgs reads every shard).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from workers.lanes import Lanes


@dataclass(frozen=True)
class OrgBacklog:
    """One org's jobs of one queue: laned (due), waiting (not yet due), admitted (in the
    Dramatiq queue or fetched by a worker: running), and how long the next laned job has
    been due."""

    laned: int = 0
    waiting: int = 0
    admitted: int = 0
    next_due_age_ms: int | None = None


class BacklogReader:
    """Per-org counts of a queue, read without scripts (nothing here blocks Redis for long):
    laned counts are O(1) per org; waiting and admitted jobs are attributed to their org by
    reading ``scan_bound`` entries at most (``complete`` says whether that covered all)."""

    def __init__(self, lanes: Lanes, scan_bound: int = 20_000) -> None:
        self.lanes = lanes
        self.scan_bound = scan_bound

    def backlog(self, queue: str, org: str | None) -> tuple[dict[str, OrgBacklog], bool]:
        """Per-org backlog of ``queue`` (only ``org``'s when given), and whether complete."""
        shards = [self.lanes.shard_of(org)] if org else range(self.lanes.shards)
        found: dict[str, OrgBacklog] = {}
        complete = True
        for shard in shards:
            part, whole = self._backlog(queue, shard, org)
            found.update(part)
            complete = complete and whole
        return dict(sorted(found.items())), complete

    def _backlog(
        self, queue: str, shard: int, org: str | None
    ) -> tuple[dict[str, OrgBacklog], bool]:
        """:meth:`backlog` of one lane shard."""
        waiting, complete_w = self._waiting_orgs(queue, shard)
        admitted, complete_a = self._admitted_orgs(queue, shard)
        redis, p = self.lanes.redis, self.lanes.prefix(queue, shard)
        orgs = {org} if org else {_text(o) for o in redis.smembers(p + ":active")}
        orgs |= set(waiting) | set(admitted) if org is None else set()
        found = {}
        for name, (laned, age) in self._laned(p, sorted(orgs)).items():
            found[name] = OrgBacklog(laned, waiting.get(name, 0), admitted.get(name, 0), age)
        return found, complete_w and complete_a

    def _laned(self, p: str, orgs: list[str]) -> dict[str, tuple[int, int | None]]:
        pipe = self.lanes.redis.pipeline(transaction=False)
        for org in orgs:
            pipe.zcard(f"{p}:lane:{org}")
            pipe.zrange(f"{p}:lane:{org}", 0, 0)
        replies = pipe.execute()
        seconds, micros = self.lanes.redis.time()  # keyless: a cluster pipeline refuses it
        now = int(seconds) * 1000 + int(micros) // 1000
        heads = [replies[i * 2 + 1][0] if replies[i * 2 + 1] else None for i in range(len(orgs))]
        pipe = self.lanes.redis.pipeline(transaction=False)
        for head in heads:
            pipe.zscore(p + ":due", head or "")
        scores = pipe.execute() if heads else []
        return {
            org: (int(replies[i * 2]), None if scores[i] is None else max(0, now - int(scores[i])))
            for i, org in enumerate(orgs)
        }

    def _waiting_orgs(self, queue: str, shard: int) -> tuple[dict[str, int], bool]:
        redis, p = self.lanes.redis, self.lanes.prefix(queue, shard)
        ids: list[bytes] = redis.zrange(p + ":waiting", 0, self.scan_bound - 1)  # type: ignore[assignment]
        metas = redis.hmget(p + ":meta", ids) if ids else []
        counts: dict[str, int] = {}
        for meta in metas:
            if meta:
                org = _text(meta).split("|", 1)[0]
                counts[org] = counts.get(org, 0) + 1
        return counts, len(ids) < self.scan_bound

    def _admitted_orgs(self, queue: str, shard: int) -> tuple[dict[str, int], bool]:
        """The shard's ``msgs`` hash holds the bodies of admitted, unacknowledged jobs."""
        counts: dict[str, int] = {}
        key = self.lanes.keys(queue, shard).msgs
        for seen, (_, body) in enumerate(self.lanes.redis.hscan_iter(key, count=500), 1):
            if seen > self.scan_bound:
                return counts, False
            org = _org_of(body)
            counts[org] = counts.get(org, 0) + 1
        return counts, True


def _org_of(body: bytes) -> str:
    try:
        args = json.loads(body).get("args") or [{}]
        return str(args[0].get("org_id") or "?")
    except (ValueError, AttributeError, IndexError, TypeError):
        return "?"


def _text(value: object) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
