"""``switchyard api``: serve the HTTP API with uvicorn."""

from __future__ import annotations

from typing import Annotated

import typer
import uvicorn

from storage.repositories.api_keys import ApiKeyRepository
from switchyard.api.app import create_app
from switchyard.cli.common import service_runtime
from switchyard.runtime import Runtime


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


def serve_console(runtime: Runtime, port: int) -> None:
    """Serve ``runtime`` (the demo's, still open) on loopback until Ctrl-C, with a fresh
    admin key to sign in to the console with — printed once, valid for this run only."""
    with runtime.sessions.begin() as session:
        key = ApiKeyRepository(session).create(None, "demo console").key.reveal()
    typer.echo(f"console: http://127.0.0.1:{port}/console  (sign in with {key}; Ctrl-C stops)")
    uvicorn.run(
        create_app(runtime),
        host="127.0.0.1",
        port=port,
        log_level=runtime.settings.log_level.lower(),
        log_config=None,
    )
