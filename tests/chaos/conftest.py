"""Fixtures of the chaos suite: one private PostgreSQL cluster per session, a private Redis
and a stand-in provider per case, and the stack wired to them."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.chaos.servers import PostgresCluster, RedisServer, StandIn
from tests.chaos.stack import Stack

pytestmark = [pytest.mark.chaos]


def _missing_tools() -> list[str]:
    tools = ["redis-server", "runuser"]
    missing = [tool for tool in tools if shutil.which(tool) is None]
    if not list(Path("/usr/lib/postgresql").glob("*/bin/initdb")):
        missing.append("initdb")
    return missing


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[PostgresCluster]:
    """A PostgreSQL cluster of the suite's own (the tests may stop it)."""
    missing = _missing_tools()
    if missing:
        pytest.skip(f"chaos suite needs {', '.join(missing)}")
    directory = Path(tempfile.mkdtemp(prefix="switchyard-chaos-pg-"))
    cluster = PostgresCluster(directory)
    cluster.init()
    cluster.start()
    yield cluster
    try:
        cluster.stop()
    finally:
        shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture
def stack(pg_cluster: PostgresCluster, tmp_path: Path) -> Iterator[Stack]:
    """A fresh database, Redis and stand-in; processes started by the test die with it."""
    redis = RedisServer(tmp_path / "redis")
    redis.start()
    stand_in = StandIn()
    stand_in.start()
    built = Stack(tmp_path, redis, pg_cluster, stand_in)
    try:
        built.boot()
        yield built
    finally:
        built.close()
        stand_in.stop()
        redis.stop()
        if not _pg_up(pg_cluster):
            pg_cluster.start()  # a case that stopped it and failed before restarting


def _pg_up(cluster: PostgresCluster) -> bool:
    return (cluster.data / "postmaster.pid").exists()
