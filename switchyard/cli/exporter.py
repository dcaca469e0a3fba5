"""``switchyard exporter``: serve queue, DLQ, connection and worker gauges for Prometheus."""

from __future__ import annotations

import time
from typing import Annotated

import typer
from prometheus_client import start_http_server

from contract.envelope import Kind
from switchyard.cli.common import service_runtime
from switchyard.observability.exporter import ExporterSources, exporter_registry


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
    with service_runtime("the exporter reads the workers' shared Redis") as runtime:
        settings = runtime.settings
        chosen = queues or [kind.value for kind in Kind]

        def sources() -> ExporterSources:
            return ExporterSources(
                redis=runtime.redis,
                sessions=runtime.sessions,
                namespace=settings.workers.namespace,
                queues=chosen,
                heartbeat_timeout_s=settings.workers.heartbeat_timeout_ms / 1000,
                lane_shards=settings.workers.lane_shards,
            )

        start_http_server(port, addr=host, registry=exporter_registry(sources))
        typer.echo(f"exporter serving http://{host}:{port}/metrics", err=True)
        while True:
            time.sleep(3600)
