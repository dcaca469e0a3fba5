"""Liveness, readiness and metrics endpoints (no authentication: they reveal no tenant data).

``/healthz`` answers as long as the process serves requests (restart me if not).
``/readyz`` answers 200 only when Redis and the database both respond within
:data:`CHECK_TIMEOUT_S` (take me out of the load balancer if not), 503 naming the failed
dependency otherwise. ``/metrics`` is this process's Prometheus exposition.
"""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from sqlalchemy import text

from switchyard.observability.exposition import render
from switchyard.runtime import Runtime

router = APIRouter(tags=["health"])
logger = logging.getLogger("switchyard.api.health")
CHECK_TIMEOUT_S = 2.0
_checks = ThreadPoolExecutor(max_workers=4, thread_name_prefix="readyz")


@router.get("/healthz")
def healthz() -> dict[str, str]:
    """Liveness: the process is up and serving."""
    return {"status": "ok"}


@router.get("/readyz")
def readyz(request: Request) -> JSONResponse:
    """Readiness: Redis and the database answer; 503 with the failing ones otherwise."""
    runtime: Runtime = request.app.state.runtime
    checks = {"redis": _check_redis, "database": _check_database}
    futures = {name: _checks.submit(check, runtime) for name, check in checks.items()}
    results: dict[str, str] = {}
    for name, future in futures.items():
        try:
            future.result(timeout=CHECK_TIMEOUT_S)
            results[name] = "ok"
        except FutureTimeout:
            results[name] = f"timed out after {CHECK_TIMEOUT_S:g}s"
        except Exception as exc:
            results[name] = f"unreachable: {type(exc).__name__}"
            logger.warning("readiness check %s failed: %s", name, exc)
    if all(value == "ok" for value in results.values()):
        return JSONResponse({"status": "ready", "checks": results})
    retry_after = str(runtime.settings.api.retry_after_seconds)
    return JSONResponse(
        {"status": "unavailable", "checks": results},
        status_code=503,
        headers={"Retry-After": retry_after},
    )


@router.get("/metrics", include_in_schema=False)
def metrics() -> Response:
    """Prometheus exposition of this process (aggregated in multiprocess mode)."""
    body, content_type = render()
    return Response(content=body, media_type=content_type)


def _check_redis(runtime: Runtime) -> None:
    runtime.redis.ping()


def _check_database(runtime: Runtime) -> None:
    with runtime.engine.connect() as connection:
        connection.execute(text("SELECT 1"))
