"""A Redis and a PostgreSQL of a test's own, on free loopback ports, that it may kill.

The shared servers (127.0.0.1:6379 and :5432) serve every test session on the machine and are
never stopped; outage tests start these instead and stop or kill them at will. Both keep their
port across restarts, so clients built before the outage reconnect to the same address.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from redis import Redis
from redis.exceptions import RedisError

from storage.crypto import generate_key_item
from storage.migrate import upgrade
from switchyard.settings import Settings, load_settings

PG_SYSTEM_USER = "postgres"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_ping(client: Redis, what: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(RedisError):  # not listening yet
            if client.ping():
                return
        time.sleep(0.05)
    raise AssertionError(f"{what} did not come up within {timeout} s")


@dataclass
class PrivateRedis:
    """``redis-server`` on a free port: kill it, start it again. No persistence, unless
    ``aof``: then an append-only file synced every second, as in production."""

    directory: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None
    aof: bool = False

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def start(self) -> None:
        """Start the server (again, on the same port) unless it runs."""
        if self.running:
            return
        binary = shutil.which("redis-server")
        if binary is None:
            pytest.skip("redis-server is not installed")
        self.process = subprocess.Popen(
            [
                *(binary, "--port", str(self.port), "--bind", "127.0.0.1"),
                *("--save", "", "--dir", str(self.directory)),
                *(("--appendonly", "yes", "--appendfsync", "everysec") if self.aof else ()),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        client = Redis.from_url(self.url, socket_connect_timeout=1)
        try:
            wait_for_ping(client, f"redis-server on port {self.port}")
        finally:
            client.close()

    def kill(self) -> None:
        """SIGKILL, as a crashed or OOM-killed server; its data is gone (with ``aof``, all
        but the last second comes back at the next start)."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)
        self.process = None


@contextmanager
def private_redis(directory: Path) -> Iterator[PrivateRedis]:
    server = PrivateRedis(directory)
    server.start()
    try:
        yield server
    finally:
        server.kill()


def _pg_binary(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}")) or [shutil.which(name) or ""]
    if not found[-1]:
        pytest.skip(f"PostgreSQL's {name} is not installed")
    return found[-1]


def _as_postgres_user(command: list[str]) -> list[str]:
    """PostgreSQL refuses to run as root: run its tools as the ``postgres`` user then."""
    if os.geteuid() != 0:
        return command
    return ["runuser", "-u", PG_SYSTEM_USER, "--", *command]


def _pg(name: str, *args: str) -> None:
    command = _as_postgres_user([_pg_binary(name), *args])
    result = subprocess.run(
        command, capture_output=True, check=False, env={**os.environ, "LC_ALL": "C"}
    )
    if result.returncode != 0:
        raise AssertionError(f"{name} failed: {result.stderr.decode(errors='replace')[-2000:]}")


@dataclass
class PrivatePostgres:
    """An ``initdb`` cluster on a free port (trust auth, database ``switchyard``), in a
    directory of its own under the system temp dir (the ``postgres`` user must reach it)."""

    directory: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="sy-pg-")))
    port: int = field(default_factory=free_port)
    running: bool = False

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/switchyard"

    def init(self) -> None:
        if os.geteuid() == 0:
            shutil.chown(self.directory, PG_SYSTEM_USER, PG_SYSTEM_USER)
        data = str(self.directory / "data")
        _pg("initdb", "-D", data, "-U", "postgres", "-A", "trust", "--no-sync", "-E", "UTF8")
        self.start()
        _pg("createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "switchyard")

    def start(self) -> None:
        """Start the server (again, on the same port) unless it runs."""
        if self.running:
            return
        options = f"-p {self.port} -k {self.directory} -c listen_addresses=127.0.0.1 -c fsync=off"
        log = str(self.directory / "postgres.log")
        _pg("pg_ctl", "-D", str(self.directory / "data"), "-o", options, "-l", log, "-w", "start")
        self.running = True

    def stop(self) -> None:
        """Stop at once (``-m immediate``: connections are cut, as in a crash)."""
        _pg("pg_ctl", "-D", str(self.directory / "data"), "-m", "immediate", "-w", "stop")
        self.running = False


@contextmanager
def private_postgres() -> Iterator[PrivatePostgres]:
    """A migrated private PostgreSQL, stopped and its directory removed afterwards."""
    server = PrivatePostgres()
    try:
        server.init()
        upgrade(server.url)
        yield server
    finally:
        if server.running:
            server.stop()
        shutil.rmtree(server.directory, ignore_errors=True)


def server_settings(
    redis_url: str, database_url: str, data_dir: Path, namespace: str, **groups: Any
) -> Settings:
    """Production defaults on the given Redis and PostgreSQL (private or shared), with a
    namespace of the test's own and a test key; ``groups`` adds setting groups."""
    return load_settings(
        _env_file=None,
        redis_url=redis_url,
        database_url=database_url,
        data_dir=data_dir,
        workers={"namespace": namespace},
        security={"encryption_keys": [generate_key_item("test1")]},
        **groups,
    )
