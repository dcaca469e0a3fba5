"""The sandbox as an ASGI app, for ``switchyard sandbox --port N`` and out-of-process tests.

A thin Starlette wrapper: each HTTP request becomes an ``httpx.Request`` handed to
:meth:`Sandbox.handle` in a worker thread (handlers are sync and may sleep for slow
faults). A simulated timeout holds the connection for ``timeout_seconds`` and then answers
504, so a real client's read timeout fires first.
"""

from __future__ import annotations

import anyio
import httpx
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from providers.sandbox.core import Sandbox

METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]
_HOP_BY_HOP = {"content-length", "transfer-encoding", "connection", "content-encoding"}


def create_app(sandbox: Sandbox | None = None, *, timeout_seconds: float = 60.0) -> Starlette:
    """An ASGI app serving ``sandbox`` (a fresh one by default) on every path."""
    target = sandbox or Sandbox()

    async def endpoint(request: Request) -> Response:
        outgoing = httpx.Request(
            request.method,
            str(request.url),
            headers=[(k, v) for k, v in request.headers.items() if k.lower() != "host"]
            + [("host", request.headers.get("host", ""))],
            content=await request.body(),
        )
        try:
            answer = await run_in_threadpool(target.handle, outgoing)
        except httpx.TimeoutException:
            await anyio.sleep(timeout_seconds)
            return Response(b'{"error":"sandbox: simulated timeout"}', status_code=504)
        headers = {k: v for k, v in answer.headers.items() if k.lower() not in _HOP_BY_HOP}
        return Response(answer.content, status_code=answer.status_code, headers=headers)

    app = Starlette(routes=[Route("/{path:path}", endpoint, methods=METHODS)])
    app.state.sandbox = target
    return app
