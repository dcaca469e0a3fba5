"""``switchyard scheduler``: run the periodic tasks (sync schedules, proactive token
refreshes, event re-fan-out); several may run at once."""

from __future__ import annotations

import signal
import threading
from types import FrameType
from typing import Annotated

import typer
from prometheus_client import start_http_server

from switchyard.cli.common import service_runtime
from switchyard.scheduler import Scheduler, default_tasks


def scheduler(
    metrics_port: Annotated[
        int | None,
        typer.Option(min=1, max=65535, help="Serve this process's /metrics on this port."),
    ] = None,
    metrics_host: Annotated[str, typer.Option(help="Bind address of /metrics.")] = "127.0.0.1",
) -> None:
    """Run the scheduler until SIGTERM or Ctrl-C; run several for availability."""
    with service_runtime("the scheduler enqueues into the workers' shared Redis") as rt:
        if metrics_port is not None:
            start_http_server(metrics_port, addr=metrics_host)
        stop = threading.Event()

        def _stop(signum: int, frame: FrameType | None) -> None:
            stop.set()

        signal.signal(signal.SIGTERM, _stop)
        signal.signal(signal.SIGINT, _stop)
        Scheduler(default_tasks(rt)).run_forever(stop)
