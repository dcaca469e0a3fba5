"""ASGI middleware counting the API's requests: rate, latency and status class per route.

Labelled by the route *template* (``/v1/dlq/{dead_job_id}``), never the concrete path, so
ids and org names never become label values; requests matching no route count as
``unmatched``.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from contract.metrics import API_REQUEST_DURATION, API_REQUESTS, status_class

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]
UNMATCHED = "unmatched"


class RequestMetrics:
    """Wraps an ASGI app; records one sample per HTTP request once its response started."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status: int | None = None

        async def recording_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, recording_send)
        finally:
            route = route_template(scope)
            method = str(scope.get("method", "GET"))
            API_REQUESTS.labels(method, route, status_class(status or 500)).inc()
            API_REQUEST_DURATION.labels(method, route).observe(time.perf_counter() - started)


def route_template(scope: Scope) -> str:
    """The matched route's path template, set on the scope by the router."""
    route = scope.get("route")
    path = getattr(route, "path_format", None) or getattr(route, "path", None)
    return str(path) if path else UNMATCHED
