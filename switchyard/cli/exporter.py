"""``switchyard exporter``: serve queue, DLQ, connection and worker gauges for Prometheus."""

from __future__ import annotations

import time
from typing import Annotated

import typer
from prometheus_client import start_http_server

from switchyard.app import build_runtime
from switchyard.cli.common import fail
from switchyard.logs import configure_logging
from switchyard.observability.exporter import ExporterSources, exporter_registry
from switchyard.settings import SettingsError, load_settings
from workers.envelope import Kind


def exporter(
    port: Annotated[
        int, typer.Option(min=1, max=65535, help="Serve /metrics on this port.")
    ] = 9200,
    host: Annotated[str, typer.Option(help="Bind address.")] = "127.0.0.1",
    queues: Annotated[
        list[str] | None,
        typer.Option("--queues", "-Q", help="Queues to report (default: every job kind)."),
    ] = None,
) -> None:
    """Read Redis and the database at each scrape; run one per deployment."""
    try:
        settings = load_settings()
        if settings.embedded:
            fail("SWITCHYARD_REDIS_URL is not set: the exporter reads the workers' shared Redis")
        runtime = build_runtime(settings)
    except SettingsError as exc:
        fail(str(exc))
    configure_logging(settings.log_level, settings.log_format)
    chosen = queues or [kind.value for kind in Kind]

    def sources() -> ExporterSources:
        return ExporterSources(
            redis=runtime.redis,
            sessions=runtime.sessions,
            namespace=settings.workers.namespace,
            queues=chosen,
            heartbeat_timeout_s=settings.workers.heartbeat_timeout_ms / 1000,
        )

    start_http_server(port, addr=host, registry=exporter_registry(sources))
    typer.echo(f"exporter serving http://{host}:{port}/metrics", err=True)
    try:
        while True:
            time.sleep(3600)
    finally:
        runtime.close()
