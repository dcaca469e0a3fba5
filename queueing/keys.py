"""Every Redis key Switchyard reads or writes, named in one place (docs: docs/redis-keys.md).

Redis Cluster runs a script or transaction only on keys of one hash slot, and the slot of a
key containing ``{…}`` is computed from what is between the braces (its *hash tag*). So keys
that a script touches together share one tag, and each family is tagged by its natural key.
``<ns>`` is the namespace (``SWITCHYARD_WORKERS__NAMESPACE``). Lua scripts receive their
tag prefix as ``KEYS[1]`` and only append suffixes to it (documented in each script header).

A queue's lanes are split into ``SWITCHYARD_WORKERS__LANE_SHARDS`` shards (default 1), each
under its own tag, so one queue's load spreads over the masters of a cluster: shard 0 is
``{<ns>:q:<queue>}`` (the layout of a single-shard deployment, unchanged), shard ``k > 0`` is
``{<ns>:q:<queue>:s<k>}``. An org's jobs all go to shard :func:`shard_of` (CRC-32 of the org
id, stable across processes and versions), so its lane, claims and cancels share one shard.
Below, ``{<ns>:q:<queue>}`` stands for any shard's tag: every ``q`` key exists per shard.

Key (tag in braces) | type | TTL | written by:

- ``{<ns>:q:<queue>}:seq`` | string | none | lanes_push.lua
- ``{<ns>:q:<queue>}:jobs``, ``:meta`` | hash | until admitted | lanes_push/lanes_admit/lanes_fetch.lua
- ``{<ns>:q:<queue>}:weights`` | hash | none | lanes_push.lua, ``Lanes.set_weight``
- ``{<ns>:q:<queue>}:waiting`` | zset by due time | none | lanes_push/lanes_admit/lanes_fetch.lua
- ``{<ns>:q:<queue>}:lane:<org>``, ``:due`` | zset | none | lanes_push/lanes_admit/lanes_fetch.lua
- ``{<ns>:q:<queue>}:active``, ``:ring`` | set, list | none | lanes_push/lanes_admit/lanes_fetch.lua
- ``{<ns>:q:<queue>}:idem:<org>:<claim>`` | string | idempotency window | lanes_push.lua
- ``{<ns>:q:<queue>}:ready`` | list | until fetched | lanes_admit/lanes_fetch.lua, recover_acks.lua
- ``{<ns>:q:<queue>}:msgs`` | hash | until acked | lanes_admit/lanes_fetch.lua, queue_park.lua
- ``{<ns>:q:<queue>}:acks:<worker>`` | set | until acked | lanes_fetch.lua, queue_requeue.lua, queue_reclaim.lua
- ``{<ns>:q:<queue>}:beats`` | zset | until recovered | WorkerHeartbeat, lanes_fetch.lua
- ``{<ns>:q:<queue>}:dead``, ``:dead.msgs`` | zset, hash | until imported | queue_park.lua, dead-set import
- ``{<ns>:q:<queue>}:cancelled`` | zset of job ids by expiry | cancel memory | lanes_cancel.lua
- ``{<ns>:q:<queue>}:job:<id>`` | hash: job state | state retention | lanes_push.lua, StateWriter
- ``{<ns>:q:<queue>}:jobs:<org>`` | zset: an org's job ids by time | state retention | lanes_push.lua
- ``<ns>:__switchyard_workers__`` | zset | members 1 h | workers.live_workers
- ``<ns>:__dead_set_import__`` | string | lock lifetime | workers.dead_set
- ``{<ns>:rl:<rate key>}:…`` | various | per policy | limiter scripts, leases_renew.lua
- ``{<ns>:webhook:<endpoint>}:parked``, ``:taken`` | hash | none | webhooks.parking
- ``<ns>:webhook:slots:<endpoint>`` | zset | lease | webhook_gate_acquire.lua
- ``<ns>:webhook:rate:<endpoint>:<second>`` | string | 2 s | webhooks.gates
- ``<ns>:refresh-cooldown:<connection>`` | string | cooldown | workers.token_refresh
- ``<ns>:inbound:seen:<provider>:<digest>`` | string | replay window | inbound receiver
- ``<ns>:oauth-state:<state>``, ``<ns>:oauth-code:<digest>`` | string | consent | connections
- ``<ns>:console:session:<digest>`` | hash | session lifetime | switchyard.console.sessions

A key without braces is its own tag: only single-key commands and scripts touch it.

Dramatiq's own key layout (``<ns>:<queue>``, ``.msgs``, ``__acks__.<worker>.<queue>``,
``__heartbeats__``) carries no tag and its ``dispatch.lua`` builds key names in Lua, so
Switchyard's consumer owns its fetch, ack, requeue and park keys under the queue's tag
(:mod:`workers.lane_broker`); Dramatiq still provides actors, middleware and the workers.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

from dramatiq.common import q_name


def tagged(*parts: str) -> str:
    """``{a:b:c}``: a hash tag; every key starting with it lives in the same cluster slot."""
    return "{" + ":".join(parts) + "}"


def shard_of(org_id: str, shards: int) -> int:
    """The lane shard (``0 .. shards - 1``) of an org's jobs: CRC-32 of its id, so every
    process and version agrees (Python's ``hash`` is salted per process)."""
    if shards < 1:
        raise ValueError(f"lane shards must be at least 1, not {shards}")
    return zlib.crc32(org_id.encode()) % shards if shards > 1 else 0


@dataclass(frozen=True)
class QueueKeys:
    """The keys of one shard of a queue, all under one tag: its lanes and its consumers' keys."""

    namespace: str
    queue: str
    shard: int = 0

    @property
    def tag(self) -> str:
        """The lane prefix, ``{<ns>:q:<queue>}`` (shard 0) or ``{<ns>:q:<queue>:s<k>}``:
        ``KEYS[1]`` of the lane scripts."""
        if self.shard:
            return tagged(self.namespace, "q", self.queue, f"s{self.shard}")
        return tagged(self.namespace, "q", self.queue)

    def lane(self, suffix: str) -> str:
        """A lane key of this queue (``due``, ``waiting``, ``active``, ``weights`` …)."""
        return f"{self.tag}:{suffix}"

    @property
    def ready(self) -> str:
        """Admitted message ids in fetch order (what Dramatiq keeps as ``<ns>:<queue>``)."""
        return self.lane("ready")

    @property
    def msgs(self) -> str:
        """Bodies of the admitted and in-flight messages, by id (Dramatiq's ``….msgs``)."""
        return self.lane("msgs")

    def acks(self, worker_id: str) -> str:
        """The ids ``worker_id`` fetched from the queue and has not acknowledged."""
        return self.lane(f"acks:{worker_id}")

    @property
    def beats(self) -> str:
        """Last beat (ms) of each worker consuming the queue: recovery reads it."""
        return self.lane("beats")

    @property
    def dead_set(self) -> tuple[str, str]:
        """Parked messages: a zset of ids by time parked, and their bodies."""
        return self.lane("dead"), self.lane("dead.msgs")

    @property
    def dramatiq_delayed_msgs(self) -> str:
        """Dramatiq's delay-queue bodies (Switchyard never delays there; read by the exporter)."""
        return f"{self.namespace}:{q_name(self.queue)}.DQ.msgs"


def queue_shards(namespace: str, queue: str, shards: int) -> list[QueueKeys]:
    """The keys of every shard of ``queue``, shard 0 first."""
    return [QueueKeys(namespace, queue, shard) for shard in range(max(1, shards))]


def worker_processes(namespace: str) -> str:
    """Live worker processes (member ``host:pid``, score: last beat in s), for the exporter."""
    return f"{namespace}:__switchyard_workers__"


def dead_set_import_lock(namespace: str) -> str:
    return f"{namespace}:__dead_set_import__"


def rate_key_tag(namespace: str, rate_key: str) -> str:
    """The tag of one rate key's limiter state, ``{<ns>:rl:<rate key>}`` (its lease zset is
    ``<tag>:leases``)."""
    return tagged(namespace, "rl", rate_key)


def console_session(namespace: str, digest: str) -> str:
    """A console session by the hash of its cookie token."""
    return f"{namespace}:console:session:{digest}"


def webhook_endpoint(namespace: str, endpoint_id: str, kind: str) -> str:
    """An ordered endpoint's ``parked`` or ``taken`` hash, under the endpoint's tag."""
    return f"{tagged(namespace, 'webhook', endpoint_id)}:{kind}"


def webhook_gate(namespace: str, kind: str, suffix: str) -> str:
    """An endpoint's concurrency slots (``slots``) or one second's send count (``rate``)."""
    return f"{namespace}:webhook:{kind}:{suffix}"


def refresh_cooldown(namespace: str, connection_id: str) -> str:
    return f"{namespace}:refresh-cooldown:{connection_id}"


def inbound_seen(namespace: str, provider: str, digest: str) -> str:
    """A verified inbound webhook's signature digest, kept for the replay window."""
    return f"{namespace}:inbound:seen:{provider}:{digest}"


def oauth(namespace: str, kind: str, value: str) -> str:
    """An OAuth consent's sealed state (``oauth-state``) or a spent code (``oauth-code``)."""
    return f"{namespace}:{kind}:{value}"
