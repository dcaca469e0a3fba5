"""Infrastructure outages answered as JSON 503 with ``Retry-After``, on every route.

A request that cannot reach Redis or the database is not the caller's fault and not a bug:
it should be retried once the dependency is back. One exception handler per error family
(:data:`switchyard.unreachable.UNREACHABLE`) turns what redis-py and SQLAlchemy raise while
their server is down, restarting or failing over into a 503 in the one error shape
(:func:`switchyard.api.errors.error_response`) with a ``Retry-After`` header, instead of Starlette's
plain-text 500. Nothing was accepted when this answer is sent: enqueue claims and lanes a job
in one Redis script, so a retried request never makes a second job. (One exception: with
``SWITCHYARD_JOBS__ENQUEUE_REPLICAS`` a job no replica confirmed in time is laned on the master
and answered 503; a retry with its idempotency key is the same job.)
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from contract.metrics import API_UNAVAILABLE
from switchyard.api.errors import error_response
from switchyard.unreachable import DEPENDENCY_NAMES, UNREACHABLE, DependencyUnreachable

logger = logging.getLogger("switchyard.api.outages")
Handler = Callable[[Request, Exception], Awaitable[JSONResponse]]


def install_outage_handlers(app: FastAPI, *, retry_after_seconds: int) -> None:
    """Answer every outage error raised by any route of ``app`` with a JSON 503."""
    for dependency, errors in UNREACHABLE.items():
        API_UNAVAILABLE.labels(dependency)  # exposed at 0 before the first outage
        handler = _handler(dependency, retry_after_seconds)
        for error in errors:
            app.add_exception_handler(error, handler)


def unavailable(dependency: str, retry_after_seconds: int) -> JSONResponse:
    """The 503 a caller gets while ``dependency`` is unreachable."""
    name = DEPENDENCY_NAMES[dependency]
    return error_response(
        503,
        f"{name} is unreachable; retry in {retry_after_seconds} s",
        headers={"Retry-After": str(retry_after_seconds)},
    )


def _handler(dependency: str, retry_after_seconds: int) -> Handler:
    async def answer_unavailable(request: Request, exc: Exception) -> JSONResponse:
        API_UNAVAILABLE.labels(dependency).inc()
        outage = DependencyUnreachable(dependency, exc)
        logger.warning("%s %s answered 503: %s", request.method, request.url.path, outage)
        return unavailable(dependency, retry_after_seconds)

    return answer_unavailable
