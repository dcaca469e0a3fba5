"""A real Redis Cluster of the test session's own: 3 masters, 3 replicas, on loopback ports.

Six plain ``redis-server --cluster-enabled yes`` processes in a temporary directory, joined by
``redis-cli --cluster create … --cluster-replicas 1``: the cluster Redis users run, not a
fake. One cluster serves the whole test session (the ``redis_cluster`` fixture) and is torn
down at its end; the shared 127.0.0.1:6379 is never touched. Without ``redis-server`` the
tests using it are skipped, or fail under ``SWITCHYARD_REQUIRE_SERVICES=1``.
"""

from __future__ import annotations

import contextlib
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from redis import Redis
from redis.exceptions import RedisError

MASTERS = 3
NODE_TIMEOUT_MS = 2_000
"""How long a master may stay silent before its replica is promoted (failover tests)."""


def free_cluster_port() -> int:
    """A free port whose cluster bus port (port + 10000) is free as well."""
    for _ in range(100):
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = int(sock.getsockname()[1])
        if port + 10_000 > 65_535:
            continue
        with socket.socket() as bus:
            try:
                bus.bind(("127.0.0.1", port + 10_000))
            except OSError:
                continue
        return port
    raise AssertionError("no free port pair for a cluster node")


@dataclass
class ClusterNode:
    """One ``redis-server`` of the cluster."""

    directory: Path
    port: int = field(default_factory=free_cluster_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self, binary: str) -> None:
        """Start on a free port pair; another port if this one was taken meanwhile."""
        for _ in range(5):
            self.process = subprocess.Popen(
                [
                    *(binary, "--port", str(self.port), "--bind", "127.0.0.1"),
                    *("--cluster-enabled", "yes"),
                    *("--cluster-config-file", f"nodes-{self.port}.conf"),
                    *("--cluster-node-timeout", str(NODE_TIMEOUT_MS)),
                    *("--save", "", "--appendonly", "no", "--dir", str(self.directory)),
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            if self._answers():
                return
            self.kill()
            self.port = free_cluster_port()
        raise AssertionError(f"cluster node on port {self.port} did not start")

    def _answers(self, timeout: float = 10) -> bool:
        deadline = time.monotonic() + timeout
        with self.client() as client:
            while time.monotonic() < deadline:
                if self.process is None or self.process.poll() is not None:
                    return False  # exited: its port was taken
                with contextlib.suppress(RedisError):
                    if client.ping():
                        return True
                time.sleep(0.05)
        return False

    def client(self) -> Redis:
        return Redis(host="127.0.0.1", port=self.port, socket_connect_timeout=1)

    def kill(self) -> None:
        """SIGKILL, as a crashed master: its replica takes over after the node timeout."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)

    def rejoin(self, binary: str) -> None:
        """Start a killed node again on its port and config file, as an operator restarts a
        failed master: the cluster makes it a replica of the node that took its slots."""
        port = self.port
        self.start(binary)
        assert self.port == port, f"port {port} was taken: the node cannot rejoin"


@dataclass
class RedisClusterServers:
    """The running cluster: its nodes and the ``redis+cluster://`` URL naming its masters."""

    nodes: list[ClusterNode]

    @property
    def url(self) -> str:
        return "redis+cluster://" + ",".join(n.address for n in self.nodes[:MASTERS])

    def stop(self) -> None:
        for node in self.nodes:
            node.kill()

    def failed_over(self, dead: ClusterNode) -> bool:
        """Another node sees ``dead`` as failed and every slot served again."""
        for node in self.nodes:
            if node is dead:
                continue
            with contextlib.suppress(RedisError), node.client() as client:
                lines = client.execute_command("CLUSTER", "NODES")
                text = lines.decode() if isinstance(lines, bytes) else str(lines)
                flags = next(ln.split()[2] for ln in text.splitlines() if f":{dead.port}@" in ln)
                return "fail" in flags.split(",") and _ready_state(client)
        return False

    def wait_replicated(self, timeout: float = 30) -> None:
        """Every master has a replica with its link up again (see :func:`_wait_until_ok`)."""
        _wait_until_ok(self.nodes, timeout)


def _wait_until_ok(nodes: list[ClusterNode], timeout: float = 30) -> None:
    """Every node agrees the cluster is up (all 16384 slots served) and every replica's link
    to its master is up (a replica still in its first sync would not count for ``WAIT``)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if all(_ready(node) for node in nodes):
            return
        time.sleep(0.1)
    raise AssertionError(f"the test cluster was not up and replicated within {timeout} s")


def _ready_state(client: Redis) -> bool:
    return bool(client.cluster("INFO").get("cluster_state") == "ok")


def _ready(node: ClusterNode) -> bool:
    with contextlib.suppress(RedisError), node.client() as client:
        if client.cluster("INFO").get("cluster_state") != "ok":
            return False
        replication = client.info("replication")
        if replication["role"] == "master":
            return int(replication["connected_slaves"]) >= 1
        return bool(replication.get("master_link_status") == "up")
    return False


def start_cluster(directory: Path) -> RedisClusterServers:
    """Start six nodes in ``directory`` and join them: 3 masters, one replica each."""
    binary, cli = shutil.which("redis-server"), shutil.which("redis-cli")
    if binary is None or cli is None:
        raise FileNotFoundError("redis-server and redis-cli are needed for a test cluster")
    cluster = RedisClusterServers([ClusterNode(directory) for _ in range(2 * MASTERS)])
    try:
        for node in cluster.nodes:
            node.start(binary)
        subprocess.run(
            [
                *(cli, "--cluster", "create", *(n.address for n in cluster.nodes)),
                *("--cluster-replicas", "1", "--cluster-yes"),
            ],
            check=True,
            capture_output=True,
            timeout=60,
        )
        _wait_until_ok(cluster.nodes)
    except BaseException:
        cluster.stop()
        raise
    return cluster


@contextlib.contextmanager
def redis_cluster_servers() -> Iterator[RedisClusterServers]:
    """A fresh cluster in a temporary directory, stopped and removed on exit."""
    with tempfile.TemporaryDirectory(prefix="switchyard-cluster-") as directory:
        cluster = start_cluster(Path(directory))
        try:
            yield cluster
        finally:
            cluster.stop()


@pytest.fixture(scope="session")
def redis_cluster() -> Iterator[RedisClusterServers]:
    """One real Redis Cluster for the whole test session (skip when it cannot start)."""
    from tests.conftest import unavailable

    try:
        servers = redis_cluster_servers()
        cluster = servers.__enter__()
    except (FileNotFoundError, subprocess.SubprocessError, AssertionError) as exc:
        unavailable("Redis Cluster", exc)
    try:
        yield cluster
    finally:
        servers.__exit__(None, None, None)
