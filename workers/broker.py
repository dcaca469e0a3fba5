"""The Dramatiq Redis broker, on a real Redis server or an in-process fakeredis.

A worker broker carries the full middleware stack in a fixed order (see
:func:`worker_broker`). Jobs reach Dramatiq queues only through admission at fetch, from
the lanes (:mod:`workers.lanes`); Dramatiq's own delay queues and ``Retries`` are not used.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import dramatiq
from dramatiq.brokers.redis import RedisBroker
from dramatiq.middleware import Middleware, ShutdownNotifications, TimeLimit
from redis import Redis

from contract.envelope import Kind
from queueing.job_state import StateWriter
from workers.actors import declare_actors
from workers.admission import Admission
from workers.context import WorkerContext
from workers.job_events import CompletionEvents
from workers.lane_broker import LaneFedBroker
from workers.log_context import JobLogContext
from workers.middleware import AttemptClock, DeadLetter, JobMetrics, OutcomeLog, Resources
from workers.middleware.heartbeat import WorkerHeartbeat
from workers.middleware.job_state import JobStateTracking
from workers.middleware.leases import HeldLeases
from workers.middleware.rate_limit import LeaseRelease, RateLimit
from workers.middleware.retries import Backoff
from workers.middleware.sync_runs import DeadSyncRuns
from workers.recovery import AckRecovery, beat_interval_ms

DEAD_MESSAGE_TTL_MS = 7 * 24 * 3600 * 1000


@dataclass(frozen=True)
class BrokerOptions:
    """Broker and retry knobs, filled from ``WorkerSettings`` by the composition root."""

    namespace: str
    heartbeat_timeout_ms: int
    time_limit_ms: int
    idle_poll_ms: int
    log_job_progress: bool


def worker_broker(client: Redis, options: BrokerOptions, context: WorkerContext) -> RedisBroker:
    """A broker with the full worker middleware stack and one actor per kind."""
    # Dramatiq runs ``before_*`` hooks in list order and ``after_*`` hooks in reverse:
    # RateLimit admits first (a deferral spends no attempt), Backoff decides right after the
    # actor, and everything that reads its verdict (dead letter, metrics, logs) sits before it.
    leases = HeldLeases(context.limiter, lease_ms=options.heartbeat_timeout_ms)
    middleware: list[Middleware] = [
        JobLogContext(),  # first: job fields are on every log line from here on
        WorkerHeartbeat(
            client,
            options.namespace,
            interval_s=beat_interval_ms(options.heartbeat_timeout_ms) / 1000,
            recovery=AckRecovery(
                client,
                options.namespace,
                [k.value for k in Kind],
                options.heartbeat_timeout_ms,
                shards=context.lanes.shards,
            ),
            leases=leases,
        ),
        RateLimit(
            context.limiter,
            context.lanes,
            context.catalog,
            context.accounts,
            lease_ms=options.heartbeat_timeout_ms,  # renewed by the heartbeat while it runs
        ),
        leases,
        AttemptClock(),
        *_state_tracking(context),  # after AttemptClock; its after hook runs after Backoff's
        OutcomeLog(progress_level=logging.INFO if options.log_job_progress else logging.DEBUG),
        JobMetrics(),
        DeadLetter(context.sessions),
        DeadSyncRuns(context.sessions),
        TimeLimit(),
        ShutdownNotifications(),
        Resources(context),
        Backoff(context.lanes, context.limiter, context.retry_policy_for),
        Admission(idle_poll_ms=options.idle_poll_ms),
        LeaseRelease(context.limiter),  # last: its after hook runs before Backoff's
    ]
    broker = LaneFedBroker(
        lanes=context.lanes,
        client=client,
        namespace=options.namespace,
        heartbeat_timeout=options.heartbeat_timeout_ms,
        maintenance_chance=0,  # recovery is ours (workers.recovery), on a timer
        dead_message_ttl=DEAD_MESSAGE_TTL_MS,
        middleware=middleware,
    )
    declare_actors(broker, time_limit_ms=options.time_limit_ms)
    dramatiq.set_broker(broker)
    return broker


def _state_tracking(context: WorkerContext) -> list[Middleware]:
    if context.job_states is None:
        return []
    events = None if context.events is None else CompletionEvents(context.events)
    return [JobStateTracking(StateWriter(context.job_states), on_finished=events)]
