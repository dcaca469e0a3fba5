"""``switchyard api``: serve the HTTP API with uvicorn."""

from __future__ import annotations

from typing import Annotated

import typer
import uvicorn

from switchyard.api.app import create_app
from switchyard.cli.common import service_runtime


def api(
    host: Annotated[str | None, typer.Option(help="Bind address (default from settings).")] = None,
    port: Annotated[
        int | None, typer.Option(min=1, max=65535, help="Port (default from settings).")
    ] = None,
) -> None:
    """Serve ``/v1/...`` and ``/healthz``. Needs SWITCHYARD_REDIS_URL so workers see the jobs."""
    with service_runtime("the API must share a Redis with the workers") as runtime:
        settings = runtime.settings
        uvicorn.run(
            create_app(runtime),
            host=host or settings.api.host,
            port=port or settings.api.port,
            log_level=settings.log_level.lower(),
            log_config=None,  # access and error lines through our handler, in our format
        )
