"""``/webhooks/{provider}``: the public receiver of provider webhooks (no API key: the
provider's own signature authenticates each request).

``POST /webhooks/{provider}`` routes by the account the payload names;
``POST /webhooks/{provider}/{connection_id}`` names the connection in the URL, for providers
whose payloads do not say which account they are for. ``GET /webhooks/{provider}`` answers
Meta's ``hub.challenge`` subscription handshake. The work is :mod:`producers.inbound`.
"""

from __future__ import annotations

import time

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from starlette.concurrency import run_in_threadpool

from producers.inbound.receiver import InboundReceiver, InboundRefused
from producers.inbound.schemes import Incoming
from switchyard.api.auth import CurrentRuntime
from switchyard.api.errors import error_response
from switchyard.api.openapi import errors_for

router = APIRouter(prefix="/webhooks", tags=["inbound webhooks"])
REFUSALS = errors_for(400, 401, 403, 409)


def _public_url(request: Request, origin: str | None) -> str:
    """The URL the provider called, as it signed it (behind a proxy: the configured origin)."""
    if origin is None:
        return str(request.url)
    query = request.url.query
    return origin + request.url.path + (f"?{query}" if query else "")


def _refusal(exc: InboundRefused) -> JSONResponse:
    return error_response(exc.status, str(exc), code=exc.outcome)


async def _receive(
    request: Request, runtime: CurrentRuntime, provider: str, connection: str | None
) -> Response:
    receiver: InboundReceiver = runtime.inbound_receiver
    hooks = runtime.settings.webhooks
    try:
        spec, _ = receiver.spec(provider)
    except InboundRefused as exc:
        return _refusal(exc)
    body = await request.body()  # bounded in size, depth and time by api.limits
    incoming = Incoming(
        method=request.method,
        url=_public_url(request, hooks.inbound_public_url),
        headers={k.lower(): v for k, v in request.headers.items()},
        body=body,
        now=time.time(),
    )
    try:
        received = await run_in_threadpool(
            receiver.receive, spec.name, incoming, connection_id=connection
        )
    except InboundRefused as exc:
        return _refusal(exc)
    if received.reply is not None:
        return JSONResponse(dict(received.reply))
    return JSONResponse({"accepted": received.accepted, "duplicates": received.duplicates})


@router.post("/{provider}", responses=REFUSALS)
async def receive(provider: str, request: Request, runtime: CurrentRuntime) -> Response:
    """Receive a provider webhook, routed by the account it names."""
    return await _receive(request, runtime, provider, None)


@router.post("/{provider}/{connection_id}", responses=REFUSALS)
async def receive_for_connection(
    provider: str, connection_id: str, request: Request, runtime: CurrentRuntime
) -> Response:
    """Receive a provider webhook for the connection named in the URL."""
    return await _receive(request, runtime, provider, connection_id)


@router.get(
    "/{provider}",
    response_class=PlainTextResponse,
    responses={
        200: {"content": {"text/plain": {}}, "description": "The hub.challenge."},
        **REFUSALS,
    },
)
def verify_subscription(provider: str, request: Request, runtime: CurrentRuntime) -> Response:
    """Meta's subscription check: echo ``hub.challenge`` if ``hub.verify_token`` matches."""
    try:
        challenge = runtime.inbound_receiver.verify_subscription(
            provider, dict(request.query_params)
        )
    except InboundRefused as exc:
        return _refusal(exc)
    return PlainTextResponse(challenge)
