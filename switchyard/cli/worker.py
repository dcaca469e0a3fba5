"""``switchyard worker``: run Dramatiq worker processes against the configured Redis."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer
from dramatiq.cli import main as dramatiq_main
from dramatiq.cli import make_argument_parser

from contract.envelope import Kind
from switchyard.cli.common import fail, service_runtime
from switchyard.observability import exposition

ALL_QUEUES = [kind.value for kind in Kind]


def worker(
    queues: Annotated[
        list[str] | None, typer.Option("--queues", "-Q", help="Queues to consume (default all).")
    ] = None,
    processes: Annotated[
        int | None,
        typer.Option(
            "--processes",
            "-p",
            min=1,
            help="Worker processes on this host (default SWITCHYARD_WORKERS__PROCESSES, 2); "
            "about one per CPU core.",
        ),
    ] = None,
    threads: Annotated[
        int | None,
        typer.Option(
            "--threads",
            "-t",
            min=1,
            help="Jobs run at once per process (default SWITCHYARD_WORKERS__THREADS, 8); "
            "jobs mostly wait on provider APIs, so more threads than cores is normal.",
        ),
    ] = None,
    shutdown_timeout_ms: Annotated[
        int, typer.Option(help="On SIGTERM, how long in-flight jobs may take to finish.")
    ] = 30_000,
    metrics_port: Annotated[
        int | None,
        typer.Option(
            min=1,
            max=65535,
            help="Serve this host's /metrics (all worker processes aggregated) on this port.",
        ),
    ] = None,
    metrics_host: Annotated[str, typer.Option(help="Bind address of --metrics-port.")] = (
        "127.0.0.1"
    ),
    metrics_dir: Annotated[
        Path | None,
        typer.Option(
            envvar=exposition.MULTIPROC_VAR,
            help="Directory for per-process metric files (*.db cleared at start; default: a temp dir).",
        ),
    ] = None,
) -> None:
    """Consume jobs. SIGTERM stops fetching, lets in-flight jobs finish, requeues prefetched."""
    # Check settings, database, key ring and Redis here, once, so a mistake is one line
    # instead of a traceback from every worker process.
    with service_runtime(
        "worker processes need a shared Redis. "
        "The embedded default runs workers inside `switchyard demo`."
    ) as rt:
        settings = rt.settings
    chosen = queues or settings.workers.queues
    unknown = sorted(set(chosen) - set(ALL_QUEUES))
    if unknown:
        source = "--queues" if queues else "SWITCHYARD_WORKERS__QUEUES"
        fail(f"{source}: unknown queue(s) {', '.join(unknown)}; known: {', '.join(ALL_QUEUES)}")
    args = [
        "switchyard.worker_boot",
        "--processes",
        str(processes or settings.workers.processes),
        "--threads",
        str(threads or settings.workers.threads),
        "--worker-shutdown-timeout",
        str(shutdown_timeout_ms),
        "--skip-logging",
        "--queues",
        *chosen,
    ]
    if metrics_port is not None:
        exposition.prepare_multiprocess_dir(metrics_dir)
        os.environ[exposition.PORT_VAR] = str(metrics_port)
        os.environ[exposition.HOST_VAR] = metrics_host
        args[1:1] = ["--fork-function", f"{exposition.__name__}:serve_worker_metrics"]
    parsed = make_argument_parser().parse_args(args)  # type: ignore[no-untyped-call]
    raise typer.Exit(dramatiq_main(parsed))  # type: ignore[no-untyped-call]
