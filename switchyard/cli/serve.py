"""``switchyard api``: serve the HTTP API with uvicorn."""

from __future__ import annotations

from typing import Annotated

import typer
import uvicorn

from switchyard.api.app import create_app
from switchyard.cli.common import fail
from switchyard.logs import configure_logging
from switchyard.settings import SettingsError, load_settings


def api(
    host: Annotated[str | None, typer.Option(help="Bind address (default from settings).")] = None,
    port: Annotated[int | None, typer.Option(min=1, max=65535)] = None,
) -> None:
    """Serve ``/v1/...`` and ``/healthz``. Needs SWITCHYARD_REDIS_URL so workers see the jobs."""
    from switchyard.app import build_runtime

    try:
        settings = load_settings()
        if settings.embedded:
            fail("SWITCHYARD_REDIS_URL is not set: the API must share a Redis with the workers")
        runtime = build_runtime(settings)
    except SettingsError as exc:
        fail(str(exc))
    configure_logging(settings.log_level, settings.log_format)
    try:
        uvicorn.run(
            create_app(runtime),
            host=host or settings.api.host,
            port=port or settings.api.port,
            log_level=settings.log_level.lower(),
        )
    finally:
        runtime.close()
