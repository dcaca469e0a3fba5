"""``/v1/connections``: connect (every auth mode), list, show, check and disconnect.

Org keys act on their own org; admin keys name it (``org_id`` in the body or query).
Responses never carry a secret. The OAuth callback has two doors: ``POST`` with an API key
(an upstream app relays ``code`` and ``state`` from its own redirect page; the key's org
must be the one the flow was started for) and ``GET`` for the provider's browser redirect
(the state alone binds the org). The logic is :mod:`switchyard.connections`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, HTTPException, Query, Request, status
from starlette.concurrency import run_in_threadpool

from switchyard.api.auth import CurrentPrincipal, CurrentRuntime, Principal
from switchyard.api.body import field_errors, read_json_object
from switchyard.connections import check as checks
from switchyard.connections import direct, oauth_flow, records
from switchyard.connections.errors import ConnectError
from workers.envelope import FieldError

router = APIRouter(prefix="/v1/connections", tags=["connections"])
START_FIELDS = frozenset({"org_id", "provider", "name", "account"})
CALLBACK_FIELDS = frozenset({"state", "code", "account", "callback"})
#: Query parameters of the browser redirect that are not extra account data.
REDIRECT_OWN = frozenset({"state", "code", "error", "error_description", "scope"})
CONNECT_FIELDS = frozenset({"org_id", "provider", "name", "account", *direct.SECRET_FIELDS})
T = TypeVar("T")
OrgQuery = Annotated[str | None, Query()]


@router.post("/oauth/start", status_code=status.HTTP_201_CREATED)
async def start_oauth(
    request: Request, principal: CurrentPrincipal, runtime: CurrentRuntime
) -> dict[str, Any]:
    """Begin an authorization-code flow: the URL to send the user to, and its state."""
    data = await _body(request, runtime.settings.api.max_body_bytes, START_FIELDS)
    org_id = principal.org_for(data.get("org_id"))
    started = await _call(
        oauth_flow.start_authorization,
        runtime,
        org_id,
        _text(data, "provider"),
        name=data.get("name", "default"),
        account=data.get("account") or {},
    )
    return {
        "authorize_url": started.authorize_url,
        "state": started.state,
        "expires_in": started.expires_in,
    }


@router.post("/oauth/callback", status_code=status.HTTP_201_CREATED)
async def oauth_callback(
    request: Request, principal: CurrentPrincipal, runtime: CurrentRuntime
) -> dict[str, Any]:
    """Finish the flow with the code and state the provider sent back."""
    data = await _body(request, runtime.settings.api.max_body_bytes, CALLBACK_FIELDS)
    return await _call(
        oauth_flow.complete_authorization,
        runtime,
        _text(data, "state", status=400),
        _text(data, "code", status=400),
        caller_org=principal.org_id,
        actor=principal.actor,
        account=data.get("account") or {},
        callback=data.get("callback") or {},
    )


@router.get("/oauth/callback", status_code=status.HTTP_201_CREATED)
async def oauth_redirect(
    request: Request,
    runtime: CurrentRuntime,
    state: Annotated[str, Query()] = "",
    code: Annotated[str, Query()] = "",
    error: Annotated[str | None, Query()] = None,
) -> dict[str, Any]:
    """The provider's browser redirect: the state alone says which org and connection."""
    if error is not None:
        raise _http(ConnectError("error", f"the provider reported {error[:100]!r}", 400))
    return await _call(
        oauth_flow.complete_authorization,
        runtime,
        state,
        code,
        caller_org=None,
        actor="oauth-redirect",
        callback={k: v for k, v in request.query_params.items() if k not in REDIRECT_OWN},
    )


@router.post("", status_code=status.HTTP_201_CREATED)
async def connect(
    request: Request, principal: CurrentPrincipal, runtime: CurrentRuntime
) -> dict[str, Any]:
    """Connect with an API key, basic credentials, an admin credential's account
    identifier, or our app's client credentials (no browser involved)."""
    data = await _body(request, runtime.settings.api.max_body_bytes, CONNECT_FIELDS)
    org_id = principal.org_for(data.get("org_id"))
    return await _call(
        direct.connect_direct,
        runtime,
        org_id,
        data.get("provider"),
        actor=principal.actor,
        name=data.get("name", "default"),
        account=data.get("account") or {},
        secrets={k: data[k] for k in direct.SECRET_FIELDS if k in data},
        operator=principal.is_admin,
    )


@router.get("")
async def list_connections(
    principal: CurrentPrincipal,
    runtime: CurrentRuntime,
    org_id: OrgQuery = None,
    provider: OrgQuery = None,
) -> dict[str, Any]:
    """The org's connections (no secrets)."""
    org = principal.org_for(org_id)
    items = await _call(records.list_connections, runtime, org, provider=provider)
    return {"items": items}


@router.get("/{connection_id}")
async def show_connection(
    connection_id: str,
    principal: CurrentPrincipal,
    runtime: CurrentRuntime,
    org_id: OrgQuery = None,
) -> dict[str, Any]:
    """One connection (no secrets); 404 when it is not the org's."""
    return await _call(records.show_connection, runtime, principal.org_for(org_id), connection_id)


@router.post("/{connection_id}/check")
async def check_connection(
    connection_id: str,
    principal: CurrentPrincipal,
    runtime: CurrentRuntime,
    org_id: OrgQuery = None,
) -> dict[str, Any]:
    """Validate the connection with the catalog's cheap authenticated request."""
    result = await _call(checks.check_connection, runtime, principal.org_for(org_id), connection_id)
    return result.as_dict()


@router.delete("/{connection_id}")
async def disconnect(
    connection_id: str,
    principal: CurrentPrincipal,
    runtime: CurrentRuntime,
    org_id: OrgQuery = None,
) -> dict[str, Any]:
    """Disconnect: secrets forgotten, status ``disconnected``, jobs park until reconnect."""
    return await _call(
        records.disconnect,
        runtime,
        principal.org_for(org_id),
        connection_id,
        actor=_actor(principal),
    )


async def _body(request: Request, max_bytes: int, allowed: frozenset[str]) -> dict[str, Any]:
    data = await read_json_object(request, max_bytes)
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise field_errors([FieldError(name, "unknown field") for name in unknown])
    return data


def _text(data: dict[str, Any], field: str, *, status: int = 422) -> str:
    value = data.get(field)
    if not isinstance(value, str) or not value:
        raise _http(ConnectError(field, "is required", status))
    return value


async def _call(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    with _mapped():
        return await run_in_threadpool(fn, *args, **kwargs)


@contextmanager
def _mapped() -> Iterator[None]:
    try:
        yield
    except ConnectError as exc:
        raise _http(exc) from None


def _http(exc: ConnectError) -> HTTPException:
    return HTTPException(exc.status, detail=[{"field": exc.field, "message": exc.message}])


def _actor(principal: Principal) -> str:
    return principal.actor
