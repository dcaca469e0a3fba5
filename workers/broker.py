"""The Dramatiq Redis broker, on a real Redis server or an in-process fakeredis.

Two flavours share one constructor: a *producer* broker only enqueues (no middleware that
runs jobs), a *worker* broker carries the full middleware stack in a fixed order — Retries
must decide before DeadLetter, metrics and logs read its verdict.
"""

from __future__ import annotations

from dataclasses import dataclass

import dramatiq
from dramatiq.brokers.redis import RedisBroker
from dramatiq.middleware import Middleware, Retries, ShutdownNotifications, TimeLimit
from redis import Redis

from workers.actors import declare_actors
from workers.context import WorkerContext
from workers.envelope import Kind
from workers.middleware import AttemptClock, DeadLetter, JobMetrics, OutcomeLog, Resources

DEAD_MESSAGE_TTL_MS = 7 * 24 * 3600 * 1000


@dataclass(frozen=True)
class BrokerOptions:
    """Broker and retry knobs, filled from ``WorkerSettings`` by the composition root."""

    namespace: str = "switchyard"
    heartbeat_timeout_ms: int = 60_000
    maintenance_chance: int = 1_000
    max_retries: int = 8
    min_backoff_ms: int = 1_000
    max_backoff_ms: int = 3_600_000
    time_limit_ms: int = 600_000


def producer_broker(client: Redis, options: BrokerOptions) -> RedisBroker:
    """A broker that enqueues only; its queues are declared so workers find them."""
    broker = _redis_broker(client, options, middleware=[])
    for kind in Kind:
        broker.declare_queue(kind.value)
    return broker


def worker_broker(client: Redis, options: BrokerOptions, context: WorkerContext) -> RedisBroker:
    """A broker with the full worker middleware stack and one actor per kind."""
    # Dramatiq runs ``after_*`` hooks in reverse list order: whatever reads the Retries
    # verdict (message.failed) must come *before* Retries in this list.
    middleware: list[Middleware] = [
        AttemptClock(),
        OutcomeLog(),
        JobMetrics(),
        DeadLetter(context.sessions),
        TimeLimit(),
        ShutdownNotifications(),
        Resources(context),
        Retries(
            max_retries=options.max_retries,
            min_backoff=options.min_backoff_ms,
            max_backoff=options.max_backoff_ms,
        ),
    ]
    broker = _redis_broker(client, options, middleware=middleware)
    declare_actors(broker, max_retries=options.max_retries, time_limit_ms=options.time_limit_ms)
    dramatiq.set_broker(broker)
    return broker


def _redis_broker(
    client: Redis, options: BrokerOptions, middleware: list[Middleware]
) -> RedisBroker:
    return RedisBroker(  # type: ignore[no-untyped-call]
        client=client,
        namespace=options.namespace,
        heartbeat_timeout=options.heartbeat_timeout_ms,
        maintenance_chance=options.maintenance_chance,
        dead_message_ttl=DEAD_MESSAGE_TTL_MS,
        middleware=middleware,
    )
