"""SWITCHYARD_REDIS_URL: one server, a Redis Cluster by some of its nodes, or unset."""

from __future__ import annotations

from pathlib import Path

import fakeredis
import pytest
from redis import Redis

from switchyard.settings import SettingsError, load_settings
from workers.redis_client import ClusterAddress, connect, parse_cluster_url


def test_a_cluster_url_names_its_startup_nodes_and_credentials() -> None:
    """Nodes, user and password (URL-quoted) and TLS come from the one URL."""
    assert parse_cluster_url("rediss+cluster://app:p%40ss@10.0.0.1:7000,[::1]:7001/") == (
        ClusterAddress(
            nodes=(("10.0.0.1", 7000), ("::1", 7001)), username="app", password="p@ss", ssl=True
        )
    )


@pytest.mark.parametrize(
    "url", ["redis+cluster://", "redis+cluster://host", "redis+cluster://h:1,h:port"]
)
def test_a_bad_cluster_url_is_refused_naming_the_variable(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch, url: str
) -> None:
    """A node without a port, or no node at all, fails at load naming SWITCHYARD_REDIS_URL."""
    monkeypatch.setenv("SWITCHYARD_REDIS_URL", url)
    with pytest.raises(SettingsError, match="SWITCHYARD_REDIS_URL"):
        load_settings()


def test_the_error_never_repeats_the_password(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The refusal of a bad node does not echo the credentials before it."""
    monkeypatch.setenv("SWITCHYARD_REDIS_URL", "redis+cluster://u:hunter2@h:1,bad")
    with pytest.raises(SettingsError) as exc:
        load_settings()
    assert "hunter2" not in str(exc.value)


def test_unset_and_single_urls_build_their_clients() -> None:
    """Unset: an in-process fakeredis; redis://: one server, as before."""
    assert isinstance(connect(None, connect_timeout=1, socket_timeout=1), fakeredis.FakeRedis)
    single = connect("redis://127.0.0.1:1/0", connect_timeout=1, socket_timeout=1)
    assert type(single) is Redis
