"""The queue exporter over fakeredis + SQLite and over real Redis + PostgreSQL."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import dramatiq
import pytest
from dramatiq.brokers.redis import RedisBroker
from prometheus_client import CollectorRegistry

from queueing.keys import QueueKeys
from storage.repositories.connections import ConnectionRepository
from storage.repositories.dead_jobs import AdminDeadJobRepository, FailedJob
from storage.repositories.organizations import OrganizationRepository
from switchyard.observability.exporter import (
    PROBE_SUCCESS,
    ExporterSources,
    Probe,
    QueueExporter,
    exporter_registry,
    read_queue_state,
)
from switchyard.runtime import Runtime
from tests.conftest import unique
from workers.lane_broker import LaneFedBroker
from workers.lanes import Lanes
from workers.live_workers import beat

NOW = 1_800_000_000.0


@pytest.fixture
def dramatiq_broker(runtime: Runtime) -> Iterator[RedisBroker]:
    """The worker's broker without middleware: the real key layout."""
    broker = LaneFedBroker(
        lanes=runtime.lanes,
        client=runtime.redis,
        namespace=runtime.settings.workers.namespace,
        middleware=[],
    )
    for queue in ("action", "sync"):
        broker.declare_queue(queue)
    yield broker


def message(queue: str, timestamp_ms: int) -> dramatiq.Message[None]:
    return dramatiq.Message(
        queue_name=queue,
        actor_name="run",
        args=({"id": uuid.uuid4().hex, "kind": queue, "provider": "slack"},),
        kwargs={},
        options={},
        message_timestamp=timestamp_ms,
    )


def sources(runtime: Runtime, **kwargs: object) -> ExporterSources:
    return ExporterSources(
        redis=runtime.redis,
        sessions=runtime.sessions,
        namespace=runtime.settings.workers.namespace,
        queues=["action", "sync", "deliver"],
        now=lambda: NOW,
        **kwargs,  # type: ignore[arg-type]
    )


def scrape(registry: CollectorRegistry, name: str, **labels: str) -> float | None:
    return registry.get_sample_value(name, labels)


def test_queue_depth_delay_and_oldest_age(runtime: Runtime, dramatiq_broker: RedisBroker) -> None:
    """Waiting, delayed and the head job's age come from the queue's keys."""
    now_ms = int(NOW * 1000)
    for age_s in (30, 20, 10):
        dramatiq_broker.enqueue(message("action", now_ms - age_s * 1000))
    delayed = message("sync", now_ms - 5_000)  # only a foreign producer could put it there
    runtime.redis.hset(
        QueueKeys(runtime.settings.workers.namespace, "sync").dramatiq_delayed_msgs,
        "x",
        delayed.encode(),
    )
    registry = exporter_registry(lambda: sources(runtime))

    assert scrape(registry, "switchyard_queue_depth", queue="action") == 3
    assert scrape(registry, "switchyard_queue_oldest_job_age_seconds", queue="action") == 30
    assert scrape(registry, "switchyard_queue_depth", queue="sync") == 0
    assert scrape(registry, "switchyard_queue_delayed_depth", queue="sync") == 1
    assert scrape(registry, "switchyard_queue_oldest_job_age_seconds", queue="deliver") == 0
    assert scrape(registry, "switchyard_queue_in_flight", queue="action") == 0


def test_fetched_jobs_count_as_in_flight_and_nacked_ones_as_broker_dead(
    runtime: Runtime, dramatiq_broker: RedisBroker
) -> None:
    """A fetched, unacked job leaves the waiting count; a nacked one lands in the dead set."""
    dramatiq_broker.enqueue(message("action", int(NOW * 1000)))
    dramatiq_broker.enqueue(message("action", int(NOW * 1000)))
    consumer = dramatiq_broker.consume("action", prefetch=1, timeout=100)
    fetched = next(consumer)
    assert fetched is not None
    registry = exporter_registry(lambda: sources(runtime))
    assert scrape(registry, "switchyard_queue_in_flight", queue="action") == 1
    consumer.nack(fetched)
    assert scrape(registry, "switchyard_broker_dead_messages", queue="action") == 1
    consumer.close()


def test_dlq_depth_by_provider_and_error_class(runtime: Runtime) -> None:
    """Dead jobs not yet replayed are counted per provider and error class."""
    with runtime.sessions.begin() as session:
        org = OrganizationRepository(session).create(unique("exp")).id
        repo = AdminDeadJobRepository(session)
        for provider, error in [
            ("slack", "permanent"),
            ("slack", "permanent"),
            ("hubspot", "auth"),
        ]:
            repo.add(
                FailedJob(
                    job_id=uuid.uuid4().hex,
                    org_id=org,
                    queue="action",
                    kind="action",
                    provider=provider,
                    envelope={},
                    error_class=error,
                    error_message="boom",
                    first_attempt_at=datetime.now(UTC),
                    last_attempt_at=datetime.now(UTC),
                )
            )
    registry = exporter_registry(lambda: sources(runtime))
    # Other tests may share the PostgreSQL database: compare at least, never exactly.
    assert (
        scrape(registry, "switchyard_dlq_depth", provider="slack", error_class="permanent") or 0
    ) >= 2
    assert (
        scrape(registry, "switchyard_dlq_depth", provider="hubspot", error_class="auth") or 0
    ) >= 1


def test_connections_by_provider_and_status(runtime: Runtime) -> None:
    """Connections are counted per provider and status."""
    registry = exporter_registry(lambda: sources(runtime))
    before = scrape(registry, "switchyard_connections", provider="slack", status="error") or 0
    with runtime.sessions.begin() as session:
        org = OrganizationRepository(session).create(unique("exp")).id
        repo = ConnectionRepository(session, org)
        repo.create("slack", status="error")
        repo.create("slack", name="second", status="error")
    assert (
        scrape(registry, "switchyard_connections", provider="slack", status="error") == before + 2
    )


def test_workers_alive_counts_fresh_heartbeats_only(runtime: Runtime) -> None:
    """A worker silent for longer than the heartbeat timeout is not alive."""
    namespace = runtime.settings.workers.namespace
    beat(runtime.redis, namespace, "host-a:1", now=NOW - 5)
    beat(runtime.redis, namespace, "host-b:2", now=NOW - 1)
    beat(runtime.redis, namespace, "host-c:3", now=NOW - 120)
    registry = exporter_registry(lambda: sources(runtime, heartbeat_timeout_s=60))
    assert scrape(registry, "switchyard_workers_alive") == 2


def test_a_failing_probe_leaves_the_others_intact(runtime: Runtime) -> None:
    """One probe raising is reported by probe_success=0; every other gauge still appears."""

    def broken(_: ExporterSources) -> list[tuple[tuple[str, ...], float]]:
        raise ConnectionError("down")

    def fine(_: ExporterSources) -> list[tuple[tuple[str, ...], float]]:
        return [(("action",), 7)]

    probes = [
        Probe("switchyard_test_broken", "x", ("queue",), broken),
        Probe("switchyard_test_fine", "x", ("queue",), fine),
    ]
    registry = CollectorRegistry()
    registry.register(QueueExporter(lambda: sources(runtime), probes))
    assert scrape(registry, "switchyard_test_fine", queue="action") == 7
    assert scrape(registry, PROBE_SUCCESS, probe="switchyard_test_broken") == 0
    assert scrape(registry, PROBE_SUCCESS, probe="switchyard_test_fine") == 1
    assert scrape(registry, "switchyard_exporter_scrape_duration_seconds") is not None


def test_queue_state_takes_two_round_trips_for_any_number_of_queues(runtime: Runtime) -> None:
    """Dramatiq queue counters of 100 queues come from two pipelined round trips."""
    calls: list[str] = []
    original = runtime.redis.pipeline

    def pipeline(*args: object, **kwargs: object) -> object:
        calls.append("pipeline")
        return original(*args, **kwargs)  # type: ignore[arg-type]

    runtime.redis.pipeline = pipeline  # type: ignore[method-assign]
    try:
        state = read_queue_state(runtime.redis, "ns", [f"q{i}" for i in range(100)])
    finally:
        del runtime.redis.pipeline
    assert calls == ["pipeline", "pipeline"]
    assert len(state) == 100


def test_lane_gauges_count_laned_waiting_and_active_orgs(runtime: Runtime) -> None:
    """Jobs pushed into lanes (due now or later) show up per queue."""
    lanes = Lanes(runtime.redis, runtime.settings.workers.namespace)
    lanes.push("action", "j1", b"{}", org="o1", priority=5)
    lanes.push("action", "j2", b"{}", org="o2", priority=5)
    lanes.push("action", "j3", b"{}", org="o2", priority=5, delay_ms=60_000)
    registry = exporter_registry(lambda: sources(runtime))
    assert scrape(registry, "switchyard_lane_depth", queue="action") == 2
    assert scrape(registry, "switchyard_lane_waiting", queue="action") == 1
    assert scrape(registry, "switchyard_lane_active_orgs", queue="action") == 2


def test_queue_age_sees_jobs_still_in_lanes(runtime: Runtime) -> None:
    """A due job held back in its org lane ages visibly; one not yet due does not count."""
    lanes = Lanes(runtime.redis, runtime.settings.workers.namespace)
    lanes.push("sync", "j1", b"{}", org="o1", priority=5)
    lanes.push("deliver", "j2", b"{}", org="o1", priority=5, delay_ms=60_000)
    time.sleep(0.3)
    registry = exporter_registry(lambda: sources(runtime))
    age = scrape(registry, "switchyard_queue_oldest_job_age_seconds", queue="sync")
    assert age is not None and 0.3 <= age < 30
    assert scrape(registry, "switchyard_queue_oldest_job_age_seconds", queue="deliver") == 0


def test_stranded_jobs_are_those_of_workers_silent_past_the_recovery_bound(
    runtime: Runtime,
) -> None:
    """Jobs of a worker silent past 1.25 x the heartbeat timeout count; a fresher one's not."""
    ns, redis = runtime.settings.workers.namespace, runtime.redis
    action = QueueKeys(ns, "action")
    redis.zadd(action.beats, {"gone": (NOW - 60) * 1000, "quiet": (NOW - 5) * 1000})
    redis.sadd(action.acks("gone"), "a", "b")
    redis.sadd(action.acks("quiet"), "c")
    registry = exporter_registry(lambda: sources(runtime, heartbeat_timeout_s=15))
    assert scrape(registry, "switchyard_jobs_stranded", queue="action") == 2
    assert scrape(registry, "switchyard_jobs_stranded", queue="sync") == 0
