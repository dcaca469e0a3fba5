"""The OpenAPI document: what FastAPI derives from the routes' models, plus the contract
every route shares and no single route states — the API-key security schemes, and the
error answers (one :class:`~switchyard.api.errors.ErrorBody` shape) each operation can give.

Which errors an operation documents follows from what it is: a keyed route can answer
401/403, a route with a body 408/413/415/422, one with path parameters 404, every route 503
(Redis or PostgreSQL down). Routes add the rest (409...) with :func:`errors_for`.
The committed ``tests/fixtures/openapi.json`` snapshot makes every change to this contract a
reviewed one (``python -m switchyard.api.openapi > tests/fixtures/openapi.json`` refreshes it).
"""

from __future__ import annotations

import json
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute

from switchyard.api.auth import authenticate
from switchyard.api.errors import ErrorBody

ERROR_REF = "#/components/schemas/Error"
DESCRIPTIONS: dict[int, str] = {
    400: "The request cannot be processed as sent.",
    401: "Missing, unknown or revoked API key.",
    403: "The key may not act on this organization or resource.",
    404: "Not found (or not this organization's).",
    408: "The request body did not arrive in time.",
    409: "Conflicts with the current state.",
    413: "The request body is too large.",
    415: "The request body is not application/json.",
    422: "Invalid input: every offending field is named.",
    502: "The provider did not answer usably; try again.",
    503: "A dependency (Redis, PostgreSQL) is unavailable; retry after Retry-After.",
}
SECURITY_SCHEMES = {
    "bearerKey": {
        "type": "http",
        "scheme": "bearer",
        "description": "An API key: `Authorization: Bearer sy_...`.",
    },
    "apiKeyHeader": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
}
_WITH_BODY = frozenset({"post", "put", "patch", "delete"})


def errors_for(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """``responses=`` entries for errors a route adds to the ones derived for it."""
    return {s: {"description": DESCRIPTIONS[s]} for s in statuses}


def install_openapi(app: FastAPI, routers: Sequence[APIRouter]) -> None:
    """Replace the app's document builder with :func:`build_openapi` (cached)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = build_openapi(app, routers)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def build_openapi(app: FastAPI, routers: Sequence[APIRouter]) -> dict[str, Any]:
    """The full document: FastAPI's, with security and the shared error answers."""
    document = get_openapi(
        title=app.title,
        version=app.version,
        description=app.description,
        routes=app.routes,
        tags=app.openapi_tags,
    )
    components = document.setdefault("components", {})
    components["securitySchemes"] = SECURITY_SCHEMES
    schemas = components.setdefault("schemas", {})
    schemas.update(
        ErrorBody.model_json_schema(ref_template="#/components/schemas/{model}")["$defs"]
    )
    schemas["Error"] = _error_schema()
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)
    for route in (r for router in routers for r in router.routes):
        if isinstance(route, APIRoute) and route.include_in_schema:
            for method in route.methods or ():
                operation = document["paths"][route.path_format][method.lower()]
                _complete(operation, route, method.lower())
    return document


def _error_schema() -> dict[str, Any]:
    schema = ErrorBody.model_json_schema(ref_template="#/components/schemas/{model}")
    schema.pop("$defs", None)
    return schema


def _complete(operation: dict[str, Any], route: APIRoute, method: str) -> None:
    operation["operationId"] = route.operation_id or route.name
    keyed = _needs_key(route.dependant)
    operation["security"] = [{"bearerKey": []}, {"apiKeyHeader": []}] if keyed else []
    statuses = {503}
    if keyed:
        statuses |= {401, 403}
    if method in _WITH_BODY:
        statuses |= {408, 413, 422}
        if not route.path_format.startswith("/webhooks/"):
            statuses.add(415)
    if route.dependant.path_params:
        statuses.add(404)
    if route.dependant.query_params or route.dependant.path_params:
        statuses.add(422)
    responses = operation.setdefault("responses", {})
    for status in sorted(statuses):
        responses[str(status)] = _error_answer(status)
    for status, answer in responses.items():
        if status.startswith(("4", "5")):
            answer["content"] = {"application/json": {"schema": {"$ref": ERROR_REF}}}


def _error_answer(status: int) -> dict[str, Any]:
    return {
        "description": DESCRIPTIONS[status],
        "content": {"application/json": {"schema": {"$ref": ERROR_REF}}},
    }


def _needs_key(dependant: Dependant) -> bool:
    """True when the route (through any dependency) authenticates an API key."""
    if dependant.call is authenticate:
        return True
    return any(_needs_key(sub) for sub in dependant.dependencies)


def main() -> None:
    """Print the document of an app on the embedded default (refreshes the snapshot)."""
    from switchyard.api.app import create_app
    from switchyard.runtime import build_runtime
    from switchyard.settings import load_settings

    with tempfile.TemporaryDirectory() as data_dir:
        settings = load_settings(
            _env_file=None, redis_url=None, database_url=None, data_dir=Path(data_dir)
        )
        runtime = build_runtime(settings)
        try:
            document = create_app(runtime).openapi()
        finally:
            runtime.close()
    json.dump(document, sys.stdout, indent=2, sort_keys=True)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
