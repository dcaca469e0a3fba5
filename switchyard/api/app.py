"""The FastAPI application: routers per resource, runtime held on ``app.state``."""

from __future__ import annotations

from fastapi import FastAPI

import switchyard
from switchyard.api import (
    connections,
    dlq,
    events,
    health,
    inbound,
    jobs,
    routes,
    syncs,
    webhooks,
)
from switchyard.api.auth import KeyCache
from switchyard.api.outages import install_outage_handlers
from switchyard.app import Runtime
from switchyard.observability.api_requests import RequestMetrics


def create_app(runtime: Runtime) -> FastAPI:
    """An API app serving ``runtime``; the caller owns the runtime's lifetime."""
    app = FastAPI(title="Switchyard", version=switchyard.__version__)
    app.state.runtime = runtime
    app.state.key_cache = KeyCache(runtime.settings.api.auth_cache_seconds)
    install_outage_handlers(app, retry_after_seconds=runtime.settings.api.retry_after_seconds)
    app.add_middleware(RequestMetrics)
    app.include_router(jobs.router)
    app.include_router(events.router)
    app.include_router(dlq.router)
    app.include_router(connections.router)
    app.include_router(webhooks.router)
    app.include_router(inbound.router)
    app.include_router(syncs.router)
    app.include_router(health.router)
    app.include_router(routes.router)
    return app
