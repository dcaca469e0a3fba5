"""The interactive reference at ``/docs``, served from the ``swagger-ui-bundle`` package.

No CDN: the Swagger UI files ship inside a Python package and are served from this process,
so ``/docs`` works on an air-gapped host exactly as the OpenAPI document at ``/openapi.json``
describes the API (see :mod:`switchyard.api.openapi`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from starlette.staticfiles import StaticFiles
from swagger_ui_bundle import swagger_ui_path

from switchyard.api.openapi import install_openapi

ASSETS = "/docs/assets"
DESCRIPTION = (
    "Switchyard runs third-party integration work for multi-tenant products: enqueue jobs, "
    "publish events, manage connections, webhooks, routes and syncs, and operate the "
    "dead-letter queue.\n\n"
    "Authenticate with an API key: `Authorization: Bearer sy_...` or `X-API-Key: sy_...`. "
    "An org key acts on its own organization; an admin key names one with `org_id`.\n\n"
    'Every 4xx and 503 answers one shape: `{"error": {"code", "message", "fields": '
    '[{"field", "message"}]}}`. Every list answers `{"items": [...], "next_cursor": ...}`.'
)
TAGS: list[dict[str, Any]] = [
    {"name": "jobs", "description": "Enqueue work for an organization; follow and cancel it."},
    {"name": "queues", "description": "Backlog per organization: laned, waiting, running."},
    {"name": "events", "description": "Publish events fanned out to webhooks and routes."},
    {"name": "connections", "description": "Connect providers; list, check, disconnect."},
    {"name": "webhooks", "description": "Outbound webhook endpoints and deliveries."},
    {"name": "routes", "description": "Event routes: actions run when events arrive."},
    {"name": "syncs", "description": "Trigger syncs, read run history and synced records."},
    {"name": "dead-letter queue", "description": "Dead jobs: list, show, replay, purge."},
    {"name": "inbound webhooks", "description": "Provider webhooks (signed by the provider)."},
    {"name": "health", "description": "Liveness and readiness (no key)."},
]


def install(app: FastAPI, routers: Sequence[APIRouter]) -> None:
    """Serve ``/docs`` and its assets, and the OpenAPI document they read."""
    install_openapi(app, routers)
    app.mount(ASSETS, StaticFiles(directory=str(swagger_ui_path)), name="docs-assets")

    @app.get("/docs", include_in_schema=False)
    def swagger_ui() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url="/openapi.json",
            title="Switchyard API",
            swagger_js_url=f"{ASSETS}/swagger-ui-bundle.js",
            swagger_css_url=f"{ASSETS}/swagger-ui.css",
            swagger_favicon_url=f"{ASSETS}/favicon-32x32.png",
        )
