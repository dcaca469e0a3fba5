"""A hung Redis or PostgreSQL (stopped with SIGSTOP: connections open, no answer) makes API
requests answer JSON 503 after the client timeouts instead of hanging forever (#23)."""

from __future__ import annotations

import contextlib
import os
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from httpx import Response

from storage.repositories.api_keys import ApiKeyRepository
from storage.repositories.organizations import OrganizationRepository
from switchyard.api.app import create_app
from switchyard.runtime import Runtime, build_runtime
from tests.conftest import unique
from tests.integration.private_servers import (
    PrivatePostgres,
    private_postgres,
    private_redis,
    server_settings,
)

pytestmark = pytest.mark.integration
JOB = {"kind": "action", "provider": "hubspot", "payload": {"action": "noop"}}
HANG_GUARD_SECONDS = 90  # far beyond the default timeouts: only a hang gets this far


@pytest.fixture
def hung(tmp_path: Path, namespace: str) -> Iterator[tuple[Runtime, TestClient, int, int]]:
    """An API on a private Redis and PostgreSQL; yields the runtime, client and server pids."""
    with private_redis(tmp_path) as redis, private_postgres() as postgres:
        settings = server_settings(redis.url, postgres.url, tmp_path, namespace)
        runtime = build_runtime(settings)
        assert redis.process is not None
        try:
            with TestClient(create_app(runtime), raise_server_exceptions=False) as client:
                yield runtime, client, redis.process.pid, _postmaster_pid(postgres)
        finally:
            runtime.close()


def _postmaster_pid(postgres: PrivatePostgres) -> int:
    return int((postgres.directory / "data" / "postmaster.pid").read_text().split()[0])


def _with_children(pid: int) -> list[int]:
    """``pid`` and its direct children (PostgreSQL's backends), from /proc."""
    children = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                children.append(int(entry.name))
    return [pid, *children]


@contextmanager
def stopped(pids: list[int]) -> Iterator[None]:
    """SIGSTOP the processes (sockets stay open, nothing answers), SIGCONT them after; a
    backend that exited meanwhile (its client went away) is simply gone."""
    for pid in pids:
        _signal(pid, signal.SIGSTOP)
    try:
        yield
    finally:
        for pid in pids:
            _signal(pid, signal.SIGCONT)


def _signal(pid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, sig)


def answered(request: Callable[[], Response]) -> Response:
    """The response, or a failure when the request is still hanging after the guard."""
    out: list[Response] = []
    worker = threading.Thread(target=lambda: out.append(request()), daemon=True)
    worker.start()
    worker.join(HANG_GUARD_SECONDS)
    assert out, f"the request still hangs after {HANG_GUARD_SECONDS} s"
    return out[0]


def _org_key(runtime: Runtime) -> str:
    with runtime.sessions.begin() as session:
        org = OrganizationRepository(session).create(unique("hung")).id
        return ApiKeyRepository(session).create(org, "ci").key.reveal()


def test_enqueue_on_a_hung_redis_answers_503(
    hung: tuple[Runtime, TestClient, int, int],
) -> None:
    """A stopped Redis: enqueue fails with Redis's socket timeout, answered 503 + Retry-After."""
    runtime, client, redis_pid, _ = hung
    headers = {"Authorization": f"Bearer {_org_key(runtime)}"}
    assert client.post("/v1/jobs", json=JOB, headers=headers).status_code == 201
    with stopped([redis_pid]):
        response = answered(lambda: client.post("/v1/jobs", json=JOB, headers=headers))
    assert response.status_code == 503, response.text
    assert "Redis" in response.json()["error"]["message"]
    assert response.headers["retry-after"] == "5"
    assert client.post("/v1/jobs", json=JOB, headers=headers).status_code == 201


def test_new_database_connection_to_a_hung_postgres_answers_503(
    hung: tuple[Runtime, TestClient, int, int],
) -> None:
    """A stopped PostgreSQL: opening a connection fails at the connect timeout, answered 503."""
    runtime, client, _, postmaster = hung
    key = _org_key(runtime)  # never used yet: authenticating it needs the database
    runtime.engine.dispose()  # the request must open a new connection
    with stopped(_with_children(postmaster)):
        response = answered(
            lambda: client.post("/v1/jobs", json=JOB, headers={"Authorization": f"Bearer {key}"})
        )
    assert response.status_code == 503, response.text
    assert "database" in response.json()["error"]["message"]
