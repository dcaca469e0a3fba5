"""The FastAPI application: routers per resource, runtime held on ``app.state``."""

from __future__ import annotations

from fastapi import FastAPI

import switchyard
from switchyard.api import (
    connections,
    dlq,
    docs,
    events,
    health,
    inbound,
    jobs,
    jobs_batch,
    queues,
    routes,
    syncs,
    webhooks,
)
from switchyard.api.auth import KeyCache
from switchyard.api.errors import install_error_handlers
from switchyard.api.limits import BodyLimits, RequestLimitsMiddleware
from switchyard.api.outages import install_outage_handlers
from switchyard.console.app import install_console
from switchyard.observability.api_requests import RequestMetrics
from switchyard.runtime import Runtime


def create_app(runtime: Runtime) -> FastAPI:
    """An API app serving ``runtime``; the caller owns the runtime's lifetime."""
    app = FastAPI(
        title="Switchyard",
        version=switchyard.__version__,
        description=docs.DESCRIPTION,
        openapi_tags=docs.TAGS,
        docs_url=None,
        redoc_url=None,
    )
    app.state.runtime = runtime
    app.state.key_cache = KeyCache(runtime.settings.api.auth_cache_seconds)
    install_error_handlers(app)
    install_outage_handlers(app, retry_after_seconds=runtime.settings.api.retry_after_seconds)
    app.add_middleware(RequestLimitsMiddleware, limits=_body_limits(runtime))
    app.add_middleware(RequestMetrics)  # outermost: refusals before routing are counted too
    routers = [
        m.router
        for m in (
            jobs,
            jobs_batch,
            queues,
            events,
            dlq,
            connections,
            webhooks,
            inbound,
            syncs,
            health,
            routes,
        )
    ]
    for router in routers:
        app.include_router(router)
    docs.install(app, routers)
    install_console(app, runtime)  # /console: HTML pages, outside the OpenAPI document
    return app


def _body_limits(runtime: Runtime) -> BodyLimits:
    api, hooks = runtime.settings.api, runtime.settings.webhooks
    return BodyLimits(
        max_bytes=api.max_body_bytes,
        inbound_max_bytes=hooks.inbound_max_body_bytes,
        max_depth=api.max_json_depth,
        timeout_seconds=api.body_timeout_seconds,
    )
