"""Starting Switchyard commands as real processes on loopback, and reading their metrics."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

from switchyard.runtime import Runtime

SWITCHYARD = [sys.executable, "-c", "from switchyard.cli import main; main()"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def env_of(rt: Runtime) -> dict[str, str]:
    s = rt.settings
    assert s.redis_url and s.database_url
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith(("SWITCHYARD_", "PROMETHEUS_"))},
        "SWITCHYARD_REDIS_URL": s.redis_url,
        "SWITCHYARD_DATABASE_URL": s.database_url,
        "SWITCHYARD_SECURITY__ENCRYPTION_KEYS": ",".join(s.security.encryption_keys),
        "SWITCHYARD_WORKERS__NAMESPACE": s.workers.namespace,
        "SWITCHYARD_WORKERS__HEARTBEAT_TIMEOUT_MS": str(s.workers.heartbeat_timeout_ms),
        # These tests follow jobs through the workers' "job started/succeeded" lines.
        "SWITCHYARD_WORKERS__LOG_JOB_PROGRESS": "true",
        # The operator's outbound allowance (loopback stand-ins), as the runtime has it.
        "SWITCHYARD_OUTBOUND__ALLOWED_NETWORKS": ",".join(s.outbound.allowed_networks),
    }


def start(
    rt: Runtime, log: Path, *args: str, extra_env: dict[str, str] | None = None
) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [*SWITCHYARD, *args],
        env={**env_of(rt), **(extra_env or {})},
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group: stop() reaches forked children too
    )


def stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM to the main process only (Dramatiq forwards it to its children: a second
    SIGTERM sent to the whole group would make them exit at once, skipping shutdown hooks);
    SIGKILL to the group if it does not exit in time."""
    if process.poll() is None:
        os.kill(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


def wait_http(url: str, process: subprocess.Popen[bytes], log: Path, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(
                f"{url}: process exited:\n{log.read_text(errors='replace')[-3000:]}"
            )
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"{url} not up in {timeout}s:\n{log.read_text(errors='replace')[-3000:]}")


class ExitedEarly(AssertionError):
    """The process died before serving (e.g. its port was taken in the meantime)."""


def start_serving(
    rt: Runtime,
    log: Path,
    command: Callable[[int], list[str]],
    path: str = "/metrics",
    extra_env: dict[str, str] | None = None,
) -> tuple[subprocess.Popen[bytes], int]:
    """Start ``command(port)`` on a free loopback port and wait until ``path`` answers.

    A free port can be taken by a parallel test between our probe and the process's bind:
    a process that exits before serving is retried on another port.
    """
    for attempt in range(3):
        port = free_port()
        process = start(rt, log, *command(port), extra_env=extra_env)
        try:
            wait_http(f"http://127.0.0.1:{port}{path}", process, log)
            return process, port
        except ExitedEarly:
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def sample_sum(url: str, name: str, **labels: str) -> float:
    """Sum of the samples called ``name`` whose labels include ``labels``."""
    total = 0.0
    for family in text_string_to_metric_families(httpx.get(url, timeout=5).text):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                total += sample.value
    return total
