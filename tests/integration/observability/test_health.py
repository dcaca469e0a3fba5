"""/healthz, /readyz and /metrics on the API."""

from __future__ import annotations

import dataclasses

from fastapi.testclient import TestClient
from redis import Redis
from redis.backoff import NoBackoff
from redis.retry import Retry
from sqlalchemy import create_engine

from switchyard.api.app import create_app
from switchyard.runtime import Runtime

CLOSED_PORT = 1  # nothing listens on loopback port 1: connections are refused at once


def test_healthz_answers_while_the_process_serves(runtime: Runtime) -> None:
    """Liveness does not depend on Redis or the database."""
    with TestClient(create_app(runtime)) as client:
        response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readyz_is_ready_when_redis_and_the_database_answer(runtime: Runtime) -> None:
    """Both dependencies reachable: 200 and each check ok."""
    with TestClient(create_app(runtime)) as client:
        response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ready", "checks": {"redis": "ok", "database": "ok"}}


def test_readyz_is_503_when_redis_is_unreachable(runtime: Runtime) -> None:
    """An unreachable Redis makes the API unready, naming Redis."""
    broken = Redis(
        host="127.0.0.1", port=CLOSED_PORT, socket_connect_timeout=1, retry=Retry(NoBackoff(), 0)
    )
    app = create_app(dataclasses.replace(runtime, redis=broken))
    with TestClient(app) as client:
        response = client.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["checks"]["redis"].startswith("unreachable")
    assert body["checks"]["database"] == "ok"


def test_readyz_is_503_when_the_database_is_unreachable(runtime: Runtime) -> None:
    """An unreachable database makes the API unready, naming the database."""
    engine = create_engine(
        f"postgresql+psycopg://postgres@127.0.0.1:{CLOSED_PORT}/none",
        connect_args={"connect_timeout": 1},
    )
    app = create_app(dataclasses.replace(runtime, engine=engine))
    with TestClient(app) as client:
        response = client.get("/readyz")
    engine.dispose()
    assert response.status_code == 503
    assert response.json()["checks"] == {"redis": "ok", "database": "unreachable: OperationalError"}


def test_metrics_exposes_the_job_metrics(runtime: Runtime) -> None:
    """/metrics is the Prometheus text format and includes Switchyard's job families."""
    with TestClient(create_app(runtime)) as client:
        response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    assert "# TYPE switchyard_jobs_enqueued_total counter" in response.text
