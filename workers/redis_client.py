"""The one place a Redis client is built: a single server, a Redis Cluster, or fakeredis.

``SWITCHYARD_REDIS_URL`` names either one server (``redis://``, ``rediss://``, ``unix://``)
or a cluster by some of its nodes: ``redis+cluster://host:port,host:port`` (``rediss+cluster``
for TLS; an optional ``user:password@`` before the first node applies to all). A cluster
client discovers the other nodes and follows slot moves and failovers by itself. Unset: one
in-process fakeredis server per runtime (the embedded default).

redis-py's ``RedisCluster`` is not a subclass of ``Redis`` but offers the same command,
pipeline and ``register_script`` interface, which is all Switchyard uses; the factory
returns it typed as ``Redis`` so the rest of the code keeps one client type. What a cluster
adds is a rule, not an API: every script and transaction must keep to keys of one hash tag
(see :mod:`queueing.keys`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast
from urllib.parse import unquote

import fakeredis
from redis import Redis
from redis.cluster import ClusterNode, RedisCluster

SINGLE_SCHEMES = ("redis://", "rediss://", "unix://")
CLUSTER_SCHEMES = ("redis+cluster://", "rediss+cluster://")


@dataclass(frozen=True)
class ClusterAddress:
    """What a ``redis+cluster://`` URL names: startup nodes, credentials, TLS."""

    nodes: tuple[tuple[str, int], ...]
    username: str | None = None
    password: str | None = None
    ssl: bool = False


def is_cluster_url(url: str) -> bool:
    return url.startswith(CLUSTER_SCHEMES)


def parse_cluster_url(url: str) -> ClusterAddress:
    """The nodes of a ``redis+cluster://[user:password@]host:port,host:port`` URL.

    Raises ValueError naming what is wrong (the message never repeats the password)."""
    scheme, _, rest = url.partition("://")
    rest = rest.split("/", 1)[0].split("?", 1)[0]
    credentials, _, hosts = rest.rpartition("@")
    username, _, password = credentials.partition(":")
    nodes = tuple(_node(item) for item in hosts.split(",") if item.strip())
    if not nodes:
        raise ValueError("a redis+cluster:// URL needs at least one host:port")
    return ClusterAddress(
        nodes=nodes,
        username=unquote(username) or None,
        password=unquote(password) or None,
        ssl=scheme == "rediss+cluster",
    )


def _node(item: str) -> tuple[str, int]:
    host, sep, port = item.strip().rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65_536:
        raise ValueError(f"cluster node {item.strip()!r} is not host:port")
    return host.strip("[]"), int(port)


def connect(url: str | None, *, connect_timeout: float, socket_timeout: float) -> Redis:
    """A client for ``url``: a cluster, one server, or (None) a fresh in-process fakeredis."""
    if url is None:
        # One fake server per runtime: producer and workers of this process share it.
        return fakeredis.FakeRedis(server=fakeredis.FakeServer())
    if is_cluster_url(url):
        address = parse_cluster_url(url)
        cluster = RedisCluster(
            startup_nodes=[ClusterNode(h, p) for h, p in address.nodes],  # type: ignore[no-untyped-call]
            username=address.username,
            password=address.password,
            ssl=address.ssl,
            socket_connect_timeout=connect_timeout,
            socket_timeout=socket_timeout,
            health_check_interval=30,
        )
        return cast(Redis, cluster)  # same command interface; see the module doc
    return Redis.from_url(
        url,
        health_check_interval=30,
        socket_connect_timeout=connect_timeout,
        socket_timeout=socket_timeout,
    )
