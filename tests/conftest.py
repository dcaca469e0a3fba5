"""Shared fixtures: real services when reachable (skip, or fail under CI), fakes otherwise."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import fakeredis
import pytest
from redis import Redis

from providers.sandbox import Sandbox
from storage.crypto import generate_key_item
from storage.repositories.organizations import OrganizationRepository
from switchyard.runtime import Runtime, build_runtime
from switchyard.settings import Settings, load_settings
from workers import redis_client

pytest_plugins = [
    "tests.conftest_storage",
    "tests.integration.redis_cluster",
    "tests.script_calls",
]

REDIS_HOST = os.environ.get("SWITCHYARD_TEST_REDIS_HOST", "127.0.0.1")
REQUIRE_SERVICES = os.environ.get("SWITCHYARD_REQUIRE_SERVICES") == "1"


def unavailable(what: str, error: Exception) -> None:
    """Skip a test needing a missing service, or fail it when CI demands real services."""
    message = f"{what} unavailable: {error}"
    if REQUIRE_SERVICES:
        pytest.fail(message + " (SWITCHYARD_REQUIRE_SERVICES=1)")
    pytest.skip(message)


_SESSION_NAMESPACES: set[str] = set()


@pytest.fixture(scope="session")
def redis_url(worker_id: str) -> Iterator[str]:
    """A real Redis database (db 10 + xdist index). Never flushed: other test sessions may
    share it, and every test keeps to namespaces of its own, deleted when the session ends."""
    index = 0 if worker_id == "master" else int(worker_id.removeprefix("gw"))
    url = f"redis://{REDIS_HOST}:6379/{10 + index}"
    try:
        client = Redis.from_url(url, socket_connect_timeout=1)
        client.ping()
    except Exception as exc:  # connection refused, timeout, auth...
        unavailable("Redis", exc)
    yield url
    for key in client.scan_iter(count=1000):
        if any(ns in key.decode(errors="replace") for ns in _SESSION_NAMESPACES):
            client.delete(key)
    client.close()


@pytest.fixture
def real_redis(redis_url: str) -> Iterator[Redis]:
    client = Redis.from_url(redis_url)
    yield client
    client.close()


@pytest.fixture(params=["fakeredis", "redis", "cluster"])
def any_redis(request: pytest.FixtureRequest) -> Iterator[Redis]:
    """The same test over fakeredis, a real Redis server and a real Redis Cluster."""
    if request.param == "fakeredis":
        yield fakeredis.FakeRedis(server=fakeredis.FakeServer())
        return
    if request.param == "cluster":
        url = request.getfixturevalue("redis_cluster").url
    else:
        url = request.getfixturevalue("redis_url")
    client = redis_client.connect(url, connect_timeout=1, socket_timeout=10)
    yield client
    client.close()


@pytest.fixture
def namespace() -> str:
    """A broker namespace of the test's own, so tests sharing a Redis db never meet."""
    name = "t" + uuid.uuid4().hex[:10]
    _SESSION_NAMESPACES.add(name)
    return name


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No SWITCHYARD_* variables from the caller's shell, and a scratch working directory."""
    for name in list(os.environ):
        if name.startswith("SWITCHYARD_") and name != "SWITCHYARD_REQUIRE_SERVICES":
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def unique(prefix: str) -> str:
    """An organization name no other test (or earlier run on the same database) uses."""
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def runtime_settings(
    *,
    backend: str,
    tmp_path: Path,
    namespace: str,
    request: pytest.FixtureRequest,
    providers: dict[str, Any] | None = None,
    **workers: Any,
) -> Settings:
    """Settings for a runtime on the embedded default or on real Redis + PostgreSQL."""
    worker_settings = {
        "namespace": namespace,
        "min_backoff_ms": 10,
        "max_backoff_ms": 40,
        "max_retries": 3,
        **workers,
    }
    if backend == "embedded":
        return load_settings(
            _env_file=None,
            redis_url=None,
            database_url=None,
            data_dir=tmp_path,
            workers=worker_settings,
            providers=providers or {},
        )
    if backend == "cluster":
        redis_url = request.getfixturevalue("redis_cluster").url
    else:
        redis_url = request.getfixturevalue("redis_url")
    return load_settings(
        _env_file=None,
        redis_url=redis_url,
        database_url=request.getfixturevalue("pg_url"),
        data_dir=tmp_path,
        workers=worker_settings,
        security={"encryption_keys": [generate_key_item("test1")]},
        providers=providers or {},
    )


def sandboxed_runtime(
    *,
    backend: str,
    tmp_path: Path,
    namespace: str,
    request: pytest.FixtureRequest,
    providers: dict[str, Any] | None = None,
    **workers: Any,
) -> Iterator[Runtime]:
    """A runtime of :func:`runtime_settings` whose provider calls (token endpoint included) go
    to its own in-process sandbox; for fixtures: ``yield from sandboxed_runtime(...)``."""
    settings = runtime_settings(
        backend=backend,
        tmp_path=tmp_path,
        namespace=namespace,
        request=request,
        providers=providers,
        **workers,
    )
    rt = build_runtime(settings, sandbox=Sandbox(seed=1))
    yield rt
    rt.close()


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """``runtime`` runs on the embedded default and on real servers; tests marked
    ``also_on_cluster`` get it on a Redis Cluster too."""
    if "runtime" in metafunc.fixturenames:
        backends = ["embedded", "servers"]
        if metafunc.definition.get_closest_marker("also_on_cluster"):
            backends.append("cluster")
        metafunc.parametrize("runtime", backends, indirect=True)


@pytest.fixture
def runtime(request: pytest.FixtureRequest, tmp_path: Path, namespace: str) -> Iterator[Runtime]:
    """A runtime on fakeredis + SQLite, then on real Redis + PostgreSQL (and on a Redis
    Cluster + PostgreSQL for tests marked ``also_on_cluster``)."""
    rt = build_runtime(
        runtime_settings(
            backend=request.param, tmp_path=tmp_path, namespace=namespace, request=request
        )
    )
    yield rt
    rt.close()


@pytest.fixture
def embedded_runtime_with(
    request: pytest.FixtureRequest, tmp_path: Path, namespace: str
) -> Iterator[Callable[..., Runtime]]:
    """Builds embedded runtimes with worker settings overridden (closed at teardown)."""
    made: list[Runtime] = []

    def make(**workers: Any) -> Runtime:
        settings = runtime_settings(
            backend="embedded", tmp_path=tmp_path, namespace=namespace, request=request, **workers
        )
        made.append(build_runtime(settings))
        return made[-1]

    yield make
    for rt in made:
        rt.close()


def new_org(rt: Runtime, prefix: str = "org") -> str:
    """A fresh organization in ``rt``'s database."""
    with rt.sessions.begin() as session:
        return OrganizationRepository(session).create(unique(prefix)).id


@pytest.fixture
def org_id(runtime: Runtime) -> str:
    """A fresh organization in the runtime's database."""
    return new_org(runtime)


@pytest.fixture
def server_runtime(
    request: pytest.FixtureRequest, tmp_path: Path, namespace: str
) -> Iterator[Runtime]:
    """A runtime on real Redis + PostgreSQL only (production defaults)."""
    settings = runtime_settings(
        backend="servers",
        tmp_path=tmp_path,
        namespace=namespace,
        request=request,
    )
    rt = build_runtime(settings)
    yield rt
    rt.close()
