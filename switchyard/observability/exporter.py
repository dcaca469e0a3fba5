"""The queue exporter: shared state read once, from Redis and the database, into gauges.

Worker processes count what *they* do; how deep a queue is, how old its oldest job, how many
jobs sit in the dead-letter table or how many workers are alive is shared state, and reading
it from every worker would multiply the load by the fleet size. ``switchyard exporter``
reads it here, at scrape time.

A *probe* is one function ``(ExporterSources) -> Iterable[Sample]`` registered with
:func:`probe` under the gauge it fills; adding a gauge (lane depth, waiting sets...) is one
such function. Each probe is guarded: one failing (database down) leaves the others'
gauges intact and sets ``switchyard_exporter_probe_success{probe=...}`` to 0.

Cost per scrape, whatever the queue sizes: two pipelined Redis round trips for all queues
(``LLEN``/``HLEN``/``ZCARD``/``LRANGE 0 n`` then one ``HMGET`` for the head messages), two
per queue for its lanes (``SMEMBERS`` of active orgs, then one pipeline of ``ZCARD``), one
``ZCOUNT``, one ``ZRANGEBYSCORE`` of silent workers (and an ``SCARD`` per silent worker and
queue, none when all is well), and two grouped ``SELECT count(*)`` queries. Never ``KEYS``
or ``SCAN``.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from prometheus_client import CollectorRegistry
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from redis import Redis
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from contract.envelope import Kind
from queueing.keys import queue_shards
from storage.models import Connection, DeadJob
from workers.lanes import LaneDepth, Lanes
from workers.live_workers import alive_workers
from workers.recovery import stranded_jobs

logger = logging.getLogger("switchyard.exporter")

Labels = tuple[str, ...]
Sample = tuple[Labels, float]
HEAD_SAMPLE = 10
"""How many messages at the head of each queue are read to find the oldest waiting job."""


@dataclass
class ExporterSources:
    """What probes read. ``now`` is injectable so tests can fix the clock."""

    redis: Redis
    sessions: sessionmaker[Session]
    namespace: str
    queues: Sequence[str] = field(default_factory=lambda: [kind.value for kind in Kind])
    heartbeat_timeout_s: float = 15.0
    lane_shards: int = 1
    now: Callable[[], float] = time.time
    _queue_state: dict[str, QueueState] | None = field(default=None, repr=False)
    _lane_state: dict[str, LaneDepth] | None = field(default=None, repr=False)

    def queue_state(self) -> dict[str, QueueState]:
        """Every queue's Redis counters, read once per scrape and shared by the queue probes."""
        if self._queue_state is None:
            self._queue_state = read_queue_state(
                self.redis, self.namespace, self.queues, self.lane_shards
            )
        return self._queue_state

    def lane_state(self) -> dict[str, LaneDepth]:
        """Every queue's lane counters (``workers.lanes``), read once per scrape."""
        if self._lane_state is None:
            lanes = Lanes(self.redis, self.namespace, shards=self.lane_shards)
            self._lane_state = lanes.depths(self.queues)
        return self._lane_state


@dataclass(frozen=True)
class QueueState:
    waiting: int
    messages: int
    delayed: int
    broker_dead: int
    oldest_enqueued_ms: int | None


@dataclass(frozen=True)
class Probe:
    name: str
    documentation: str
    labels: Labels
    read: Callable[[ExporterSources], Iterable[Sample]]


PROBES: list[Probe] = []


def probe(
    name: str, documentation: str, labels: Labels = ()
) -> Callable[[Callable[[ExporterSources], Iterable[Sample]]], Callable[..., Iterable[Sample]]]:
    """Register a function as the reader of gauge ``name``."""

    def register(
        read: Callable[[ExporterSources], Iterable[Sample]],
    ) -> Callable[[ExporterSources], Iterable[Sample]]:
        PROBES.append(Probe(name, documentation, labels, read))
        return read

    return register


def read_queue_state(
    redis: Redis, namespace: str, queues: Sequence[str], shards: int = 1
) -> dict[str, QueueState]:
    """Per queue, summed over its lane shards (keys of :class:`queueing.keys.QueueKeys`): the
    ready list, the bodies of ready and in-flight messages, Dramatiq's delay queue (kept
    empty), the dead set; the oldest of the heads of the shards' ready lists."""
    every = [keys for queue in queues for keys in queue_shards(namespace, queue, shards)]
    pipe = redis.pipeline(transaction=False)
    for keys in every:
        pipe.llen(keys.ready)
        pipe.hlen(keys.msgs)
        pipe.hlen(keys.dramatiq_delayed_msgs)
        pipe.zcard(keys.dead_set[0])
        pipe.lrange(keys.ready, 0, HEAD_SAMPLE - 1)
    replies = pipe.execute()
    lengths = {queue: [0, 0, 0, 0] for queue in queues}
    heads = []
    for index, keys in enumerate(every):
        *counts, head = replies[index * 5 : index * 5 + 5]
        total = lengths[keys.queue]
        for i, count in enumerate(counts):  # the delay queue is per queue: read it once
            total[i] += int(count) if i != 2 or not keys.shard else 0
        if head:
            heads.append((keys, list(head)))
    pipe = redis.pipeline(transaction=False)
    for keys, head in heads:
        pipe.hmget(keys.msgs, head)
    oldest: dict[str, int] = {}
    for (keys, _), bodies in zip(heads, pipe.execute() if heads else [], strict=True):
        found = _oldest_ms(bodies)
        if found is not None:
            oldest[keys.queue] = min(found, oldest.get(keys.queue, found))
    return {
        queue: QueueState(*_four(lengths[queue]), oldest_enqueued_ms=oldest.get(queue))
        for queue in queues
    }


def _four(counts: list[int]) -> tuple[int, int, int, int]:
    return counts[0], counts[1], counts[2], counts[3]


def _oldest_ms(bodies: Iterable[bytes | None]) -> int | None:
    """The earliest due time among encoded Dramatiq messages (enqueue time, or eta)."""
    found: list[int] = []
    for body in bodies:
        if body is None:  # acked between the two round trips
            continue
        try:
            message: dict[str, Any] = json.loads(body)
            due = max(int(message["message_timestamp"]), int(message["options"].get("eta", 0)))
        except (ValueError, KeyError, TypeError, AttributeError):
            continue
        found.append(due)
    return min(found) if found else None


# --- probes --------------------------------------------------------------------------------
@probe("switchyard_queue_depth", "Jobs waiting in a Dramatiq queue (not yet fetched).", ("queue",))
def queue_depth(src: ExporterSources) -> Iterator[Sample]:
    for queue, state in src.queue_state().items():
        yield (queue,), state.waiting


@probe(
    "switchyard_queue_in_flight",
    "Jobs fetched by workers and not yet acknowledged (running or prefetched).",
    ("queue",),
)
def queue_in_flight(src: ExporterSources) -> Iterator[Sample]:
    for queue, state in src.queue_state().items():
        yield (queue,), max(0, state.messages - state.waiting)


@probe(
    "switchyard_queue_delayed_depth",
    "Jobs in Dramatiq's delay queue (retry backoff, not_before) for a queue.",
    ("queue",),
)
def queue_delayed(src: ExporterSources) -> Iterator[Sample]:
    for queue, state in src.queue_state().items():
        yield (queue,), state.delayed


@probe(
    "switchyard_queue_oldest_job_age_seconds",
    "Age of the oldest due job not yet started, in the org lanes or at the head of the "
    "Dramatiq queue, since it became due (0 when none).",
    ("queue",),
)
def queue_oldest_age(src: ExporterSources) -> Iterator[Sample]:
    now_ms = src.now() * 1000
    lanes = src.lane_state()
    for queue, state in src.queue_state().items():
        oldest = state.oldest_enqueued_ms
        head_s = 0.0 if oldest is None else max(0.0, (now_ms - oldest) / 1000)
        lane_s = (lanes[queue].oldest_due_age_ms or 0) / 1000
        yield (queue,), max(head_s, lane_s)


@probe(
    "switchyard_broker_dead_messages",
    "Failed jobs whose dead-letter row is not written yet (the write failed; the scheduler's"
    " dead_set_import writes them).",
    ("queue",),
)
def broker_dead(src: ExporterSources) -> Iterator[Sample]:
    for queue, state in src.queue_state().items():
        yield (queue,), state.broker_dead


@probe(
    "switchyard_lane_depth",
    "Jobs due and waiting in the per-org lanes of a queue, before fair admission.",
    ("queue",),
)
def lane_depth(src: ExporterSources) -> Iterator[Sample]:
    for queue, depth in src.lane_state().items():
        yield (queue,), depth.laned


@probe(
    "switchyard_lane_waiting",
    "Jobs not yet due (not_before, retry backoff, rate-limit deferral) in a queue's waiting set.",
    ("queue",),
)
def lane_waiting(src: ExporterSources) -> Iterator[Sample]:
    for queue, depth in src.lane_state().items():
        yield (queue,), depth.waiting


@probe("switchyard_lane_active_orgs", "Organizations with jobs in a queue's lanes.", ("queue",))
def lane_active_orgs(src: ExporterSources) -> Iterator[Sample]:
    for queue, depth in src.lane_state().items():
        yield (queue,), depth.orgs


@probe(
    "switchyard_dlq_depth",
    "Dead-lettered jobs not yet replayed, by provider and error class.",
    ("provider", "error_class"),
)
def dlq_depth(src: ExporterSources) -> Iterator[Sample]:
    query = (
        select(DeadJob.provider, DeadJob.error_class, func.count())
        .where(DeadJob.replayed_at.is_(None))
        .group_by(DeadJob.provider, DeadJob.error_class)
    )
    with src.sessions() as session:
        for provider, error_class, count in session.execute(query):
            yield (provider, error_class), count


@probe("switchyard_connections", "Provider connections by status.", ("provider", "status"))
def connections(src: ExporterSources) -> Iterator[Sample]:
    query = select(Connection.provider, Connection.status, func.count()).group_by(
        Connection.provider, Connection.status
    )
    with src.sessions() as session:
        for provider, status, count in session.execute(query):
            yield (provider, status), count


@probe("switchyard_workers_alive", "Worker processes whose heartbeat is fresh.")
def workers_alive(src: ExporterSources) -> Iterator[Sample]:
    yield (), alive_workers(src.redis, src.namespace, src.heartbeat_timeout_s, now=src.now())


@probe(
    "switchyard_jobs_stranded",
    "Jobs held by workers silent for longer than the recovery bound (1.25 x the heartbeat "
    "timeout): recovery should have requeued them; anything but 0 means it is not running.",
    ("queue",),
)
def jobs_stranded(src: ExporterSources) -> Iterator[Sample]:
    timeout_ms = int(src.heartbeat_timeout_s * 1000)
    now_ms = int(src.now() * 1000)
    found = stranded_jobs(
        src.redis, src.namespace, src.queues, timeout_ms, now_ms, shards=src.lane_shards
    )
    for queue, count in found.items():
        yield (queue,), count


# --- the collector -------------------------------------------------------------------------
PROBE_SUCCESS = "switchyard_exporter_probe_success"
SCRAPE_DURATION = "switchyard_exporter_scrape_duration_seconds"


class QueueExporter(Collector):
    """A prometheus-client collector running every probe at each scrape."""

    def __init__(
        self, make_sources: Callable[[], ExporterSources], probes: Sequence[Probe] = ()
    ) -> None:
        self.make_sources = make_sources
        self.probes = list(probes or PROBES)

    def describe(self) -> list[GaugeMetricFamily]:
        """Metric families without samples (also what the dashboard test checks names against)."""
        families = [
            GaugeMetricFamily(p.name, p.documentation, labels=p.labels) for p in self.probes
        ]
        families.append(_success_family())
        families.append(_duration_family())
        return families

    def collect(self) -> Iterator[GaugeMetricFamily]:
        started = time.perf_counter()
        sources = self.make_sources()
        success = _success_family()
        for item in self.probes:
            family = GaugeMetricFamily(item.name, item.documentation, labels=item.labels)
            try:
                for labels, value in item.read(sources):
                    family.add_metric(list(labels), value)
            except Exception:
                logger.exception("exporter probe %s failed", item.name)
                success.add_metric([item.name], 0)
                continue
            success.add_metric([item.name], 1)
            yield family
        yield success
        duration = _duration_family()
        duration.add_metric([], time.perf_counter() - started)
        yield duration


def _success_family() -> GaugeMetricFamily:
    return GaugeMetricFamily(PROBE_SUCCESS, "1 when the probe read its source.", labels=["probe"])


def _duration_family() -> GaugeMetricFamily:
    return GaugeMetricFamily(SCRAPE_DURATION, "Time the exporter took to read every probe.")


def exporter_registry(make_sources: Callable[[], ExporterSources]) -> CollectorRegistry:
    """A registry holding only the exporter (its process records nothing else)."""
    registry = CollectorRegistry(auto_describe=True)
    registry.register(QueueExporter(make_sources))
    return registry
