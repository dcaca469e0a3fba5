"""Exposing metrics: one registry per process, aggregated across Dramatiq worker processes.

Dramatiq runs N worker processes per host; each records its own samples. prometheus-client's
multiprocess mode has every process write its values to files in one directory
(``PROMETHEUS_MULTIPROC_DIR``) and a collector sums them at scrape time. ``switchyard worker
--metrics-port N`` prepares that directory (fresh for each start, as the client requires),
and a small process forked by Dramatiq serves the aggregate — one ``/metrics`` per host.

The switch has to happen before the first sample is recorded: prometheus-client picks the
value class when a labelled metric's child is first created, so :func:`use_multiprocess_values`
(called by ``switchyard.worker_boot`` in each worker process) resets it from the
environment inherited from ``switchyard worker``.
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    generate_latest,
    start_http_server,
    values,
)
from prometheus_client.multiprocess import MultiProcessCollector

MULTIPROC_VAR = "PROMETHEUS_MULTIPROC_DIR"
PORT_VAR = "SWITCHYARD_WORKER_METRICS_PORT"
HOST_VAR = "SWITCHYARD_WORKER_METRICS_HOST"


def multiprocess_dir() -> Path | None:
    """The multiprocess directory of this process, or None in single-process mode."""
    value = os.environ.get(MULTIPROC_VAR)
    return Path(value) if value else None


def prepare_multiprocess_dir(path: Path | None = None) -> Path:
    """Create (or empty) the directory worker processes write samples to, and export it.

    Files left by an earlier run would add stale counts to the new one, so the ``*.db``
    files of an existing directory are removed (nothing else in it is touched); without a
    path a fresh temporary directory is made.
    """
    if path is None:
        path = Path(tempfile.mkdtemp(prefix="switchyard-metrics-"))
    else:
        path.mkdir(parents=True, exist_ok=True)
        for stale in path.glob("*.db"):
            stale.unlink()
    os.environ[MULTIPROC_VAR] = str(path)
    use_multiprocess_values()
    return path


def use_multiprocess_values() -> None:
    """Make metrics created from now on write to the multiprocess directory, if one is set."""
    values.ValueClass = values.get_value_class()  # type: ignore[no-untyped-call]


def metrics_registry() -> CollectorRegistry:
    """The registry to expose: the aggregate of every process in multiprocess mode."""
    directory = multiprocess_dir()
    if directory is None:
        return REGISTRY
    registry = CollectorRegistry()
    MultiProcessCollector(registry, path=str(directory))  # type: ignore[no-untyped-call]
    return registry


def render(registry: CollectorRegistry | None = None) -> tuple[bytes, str]:
    """The exposition body and its content type."""
    return generate_latest(registry or metrics_registry()), CONTENT_TYPE_LATEST


def serve_worker_metrics() -> int:
    """Dramatiq fork function: serve the host's aggregated ``/metrics`` until SIGTERM.

    ``switchyard worker --metrics-port`` passes the address through the environment,
    because Dramatiq calls fork functions without arguments.
    """
    port = int(os.environ[PORT_VAR])
    host = os.environ.get(HOST_VAR, "127.0.0.1")
    start_http_server(port, addr=host, registry=metrics_registry())
    while True:  # Dramatiq's SIGTERM handler exits this process
        time.sleep(3600)
