"""Console dead-letters page: 10,000 dead jobs, the first page and a deep page (offset
9,950) and a filtered deep page rendered through the whole app (auth, session lookup,
query, template); prints the median and worst time of each. Pagination is server-side, so
a page costs one bounded query and a count, whatever the depth."""

from __future__ import annotations

import os
import statistics
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

from fastapi.testclient import TestClient
from redis import Redis

from storage.migrate import upgrade
from storage.repositories.api_keys import ApiKeyRepository
from storage.repositories.dead_jobs import AdminDeadJobRepository, FailedJob
from storage.repositories.organizations import OrganizationRepository
from switchyard.api.app import create_app
from switchyard.console.guard import COOKIE
from switchyard.console.sessions import SessionStore
from switchyard.runtime import Runtime, build_runtime
from switchyard.settings import load_settings

REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/9")
KEY = "k1:" + "A" * 43 + "="
DEAD, ROUNDS = 10_000, 20
PAGES = {
    "first page": "/console/dead-letters",
    "deep page (offset 9,950)": "/console/dead-letters?offset=9950",
    "filtered deep page (provider, offset 2,450)": (
        "/console/dead-letters?provider=slack&offset=2450"
    ),
}


def main() -> None:
    try:
        Redis.from_url(REDIS_URL).ping()
    except Exception as exc:
        print(f"console benchmark needs a real Redis at {REDIS_URL}: {exc}")
        return
    namespace = "bc" + uuid.uuid4().hex[:6]
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
            _fill_dlq(rt)
            figures = _render(rt, namespace)
        finally:
            for key in rt.redis.scan_iter(f"*{namespace}*"):
                rt.redis.delete(key)
            rt.close()
    for name, times in figures.items():
        print(
            f"console dead letters, {DEAD} dead jobs, {name}: median "
            f"{statistics.median(times) * 1000:.1f} ms, worst {max(times) * 1000:.1f} ms"
        )


def _fill_dlq(rt: Runtime) -> None:
    now = datetime.now(UTC)
    with rt.sessions.begin() as session:
        org = OrganizationRepository(session).create("bench-console-" + uuid.uuid4().hex[:6]).id
        repo = AdminDeadJobRepository(session)
        for n in range(DEAD):
            repo.add(
                FailedJob(
                    job_id=uuid.uuid4().hex,
                    org_id=org,
                    queue="action",
                    kind="action",
                    provider=("hubspot", "slack", "stripe", "shopify")[n % 4],
                    envelope={"kind": "action", "payload": {"action": "noop"}},
                    error_class=("transient", "permanent", "auth")[n % 3],
                    error_message="seeded",
                    first_attempt_at=now,
                    last_attempt_at=now,
                )
            )


def _render(rt: Runtime, namespace: str) -> dict[str, list[float]]:
    with rt.sessions.begin() as session:
        key_id = ApiKeyRepository(session).create(None, "bench").api_key.id
    token = SessionStore(rt.redis, namespace).create(key_id, None)
    figures: dict[str, list[float]] = {}
    with TestClient(create_app(rt), cookies={COOKIE: token}) as client:
        for name, path in PAGES.items():
            assert client.get(path).status_code == 200  # warm
            times = []
            for _ in range(ROUNDS):
                started = time.perf_counter()
                answer = client.get(path)
                times.append(time.perf_counter() - started)
                assert answer.status_code == 200 and "<tbody>" in answer.text
            figures[name] = times
    return figures


if __name__ == "__main__":
    main()
