"""``switchyard worker``: run Dramatiq worker processes against the configured Redis."""

from __future__ import annotations

from typing import Annotated

import typer
from dramatiq.cli import main as dramatiq_main
from dramatiq.cli import make_argument_parser

from switchyard.cli.common import fail
from switchyard.settings import SettingsError, load_settings
from workers.envelope import Kind

ALL_QUEUES = [kind.value for kind in Kind]


def worker(
    queues: Annotated[
        list[str] | None, typer.Option("--queues", "-Q", help="Queues to consume (default all).")
    ] = None,
    processes: Annotated[int | None, typer.Option("--processes", "-p", min=1)] = None,
    threads: Annotated[int | None, typer.Option("--threads", "-t", min=1)] = None,
    shutdown_timeout_ms: Annotated[
        int, typer.Option(help="On SIGTERM, how long in-flight jobs may take to finish.")
    ] = 30_000,
) -> None:
    """Consume jobs. SIGTERM stops fetching, lets in-flight jobs finish, requeues prefetched."""
    try:
        settings = load_settings()
    except SettingsError as exc:
        fail(str(exc))
    if settings.embedded:
        fail(
            "SWITCHYARD_REDIS_URL is not set: worker processes need a shared Redis. "
            "The embedded default runs workers inside `switchyard demo`."
        )
    chosen = queues or settings.workers.queues
    unknown = sorted(set(chosen) - set(ALL_QUEUES))
    if unknown:
        fail(f"--queues: unknown queue(s) {', '.join(unknown)}; known: {', '.join(ALL_QUEUES)}")
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
    parsed = make_argument_parser().parse_args(args)  # type: ignore[no-untyped-call]
    raise typer.Exit(dramatiq_main(parsed))  # type: ignore[no-untyped-call]
