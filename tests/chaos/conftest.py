"""Fixtures of the chaos suite: per case a private PostgreSQL cluster, a private Redis with
AOF (``everysec``), a stand-in provider, and the stack wired to them."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.chaos.servers import StandIn
from tests.chaos.stack import Stack
from tests.integration.private_servers import PrivatePostgres, PrivateRedis


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[Stack]:
    """Servers of the case's own; processes the test starts die with it."""
    redis = PrivateRedis(tmp_path / "redis", aof=True)
    pg = PrivatePostgres()
    stand_in = StandIn()
    built: Stack | None = None
    try:
        (tmp_path / "redis").mkdir()
        redis.start()
        pg.init()
        stand_in.start()
        built = Stack(tmp_path, redis, pg, stand_in)
        built.boot()
        yield built
    finally:
        if built is not None:
            built.close()
        stand_in.stop()
        redis.kill()
        if pg.running:
            pg.stop()
        shutil.rmtree(pg.directory, ignore_errors=True)
