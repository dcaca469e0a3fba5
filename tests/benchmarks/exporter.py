"""Exporter scrape cost: 100 queues of 1,000 jobs each (Dramatiq queues and lanes) and
10,000 dead jobs, scraped repeatedly; prints the median and worst scrape time and the
number of Redis round trips per scrape (bounded: no KEYS, no per-job reads)."""

from __future__ import annotations

import os
import statistics
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

from prometheus_client import generate_latest
from redis import Redis

from queueing.keys import QueueKeys
from storage.migrate import upgrade
from storage.repositories.dead_jobs import AdminDeadJobRepository, FailedJob
from storage.repositories.organizations import OrganizationRepository
from switchyard.observability.exporter import ExporterSources, exporter_registry
from switchyard.runtime import build_runtime
from switchyard.settings import load_settings
from workers.lanes import Lanes

REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/9")
KEY = "k1:" + "A" * 43 + "="
QUEUES, JOBS, DEAD, SCRAPES = 100, 1_000, 10_000, 20


def main() -> None:
    try:
        Redis.from_url(REDIS_URL).ping()
    except Exception as exc:
        print(f"exporter benchmark needs a real Redis at {REDIS_URL}: {exc}")
        return
    namespace = "bx" + uuid.uuid4().hex[:6]
    with tempfile.TemporaryDirectory() as tmp:
        db = os.environ.get("BENCH_DATABASE_URL") or f"sqlite:///{Path(tmp) / 'bench.db'}"
        upgrade(db)
        settings = load_settings(
            _env_file=None,
            redis_url=REDIS_URL,
            database_url=db,
            data_dir=Path(tmp),
            workers={"namespace": namespace},
            security={"encryption_keys": [KEY]},
        )
        rt = build_runtime(settings)
        try:
            queues = [f"q{i:03d}" for i in range(QUEUES)]
            _fill_queues(rt.redis, Lanes(rt.redis, namespace), namespace, queues)
            _fill_dlq(rt.sessions)
            times, calls = _scrape(rt.redis, rt.sessions, namespace, queues)
        finally:
            for key in rt.redis.scan_iter(f"*{namespace}*"):
                rt.redis.delete(key)
            rt.close()
    print(
        f"exporter scrape, {QUEUES} queues x {JOBS} jobs, {DEAD} dead jobs: "
        f"median {statistics.median(times) * 1000:.0f} ms, worst {max(times) * 1000:.0f} ms, "
        f"{calls} Redis round trips per scrape"
    )


def _fill_queues(redis: Redis, lanes: Lanes, namespace: str, queues: list[str]) -> None:
    """Half of each queue's jobs ready in its ready list, half waiting in org lanes."""
    for queue in queues:
        pipe = redis.pipeline(transaction=False)
        now_ms = int(time.time() * 1000)
        for n in range(JOBS // 2):
            message_id = f"{queue}-{n}"
            body = f'{{"message_timestamp": {now_ms}, "options": {{}}}}'
            pipe.hset(QueueKeys(namespace, queue).msgs, message_id, body)
            pipe.rpush(QueueKeys(namespace, queue).ready, message_id)
        pipe.execute()
        for n in range(JOBS // 2):
            lanes.push(queue, f"{queue}-l{n}", b"{}", org=f"org{n % 7}", priority=5)


def _fill_dlq(sessions: object) -> None:
    now = datetime.now(UTC)
    with sessions.begin() as session:  # type: ignore[attr-defined]
        org = OrganizationRepository(session).create("bench-dlq").id
        repo = AdminDeadJobRepository(session)
        for n in range(DEAD):
            repo.add(
                FailedJob(
                    job_id=uuid.uuid4().hex,
                    org_id=org,
                    queue="action",
                    kind="action",
                    provider=("hubspot", "slack", "stripe", "shopify")[n % 4],
                    envelope={},
                    error_class=("transient", "permanent", "auth")[n % 3],
                    error_message="seeded",
                    first_attempt_at=now,
                    last_attempt_at=now,
                )
            )


def _scrape(
    redis: Redis, sessions: object, namespace: str, queues: list[str]
) -> tuple[list[float], int]:
    calls = [0]
    original_command, original_pipeline = redis.execute_command, redis.pipeline

    def command(*args: object, **kwargs: object) -> object:
        calls[0] += 1
        return original_command(*args, **kwargs)

    def pipeline(*args: object, **kwargs: object) -> object:
        calls[0] += 1  # one round trip when executed
        return original_pipeline(*args, **kwargs)  # type: ignore[arg-type]

    def sources() -> ExporterSources:
        return ExporterSources(
            redis=redis,
            sessions=sessions,
            namespace=namespace,
            queues=queues,  # type: ignore[arg-type]
        )

    registry = exporter_registry(sources)
    times = []
    for _ in range(SCRAPES):
        started = time.perf_counter()
        generate_latest(registry)
        times.append(time.perf_counter() - started)
    redis.execute_command = command  # type: ignore[method-assign]
    redis.pipeline = pipeline  # type: ignore[method-assign]
    generate_latest(registry)
    redis.execute_command, redis.pipeline = original_command, original_pipeline  # type: ignore[method-assign]
    return times, calls[0]


if __name__ == "__main__":
    main()
