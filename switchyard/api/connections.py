"""``/v1/connections``: connect (every auth mode), list, show, check and disconnect.

Org keys act on their own org; admin keys name it (``org_id`` in the body or query).
Responses never carry a secret. The OAuth callback has two doors: ``POST`` with an API key
(an upstream app relays ``code`` and ``state`` from its own redirect page; the key's org
must be the one the flow was started for) and ``GET`` for the provider's browser redirect
(the state alone binds the org). The logic is :mod:`switchyard.services.connections`; its
refusals are mapped once by :mod:`switchyard.api.errors`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Query, Request, status
from starlette.concurrency import run_in_threadpool

from switchyard.api.auth import CurrentPrincipal, CurrentRuntime, Principal
from switchyard.api.openapi import errors_for
from switchyard.api.schemas.common import Page
from switchyard.api.schemas.connections import (
    CheckResult,
    Connection,
    ConnectRequest,
    OAuthCallbackRequest,
    OAuthStarted,
    OAuthStartRequest,
)
from switchyard.api.scope import acting_org
from switchyard.runtime import Runtime
from switchyard.service_deps import connection_deps
from switchyard.services.connections import check as checks
from switchyard.services.connections import direct, oauth_flow, records
from switchyard.services.errors import Refused, field_error

router = APIRouter(
    prefix="/v1/connections", tags=["connections"], responses=errors_for(400, 404, 409, 502)
)
#: Query parameters of the browser redirect that are not extra account data.
REDIRECT_OWN = frozenset({"state", "code", "error", "error_description", "scope"})
T = TypeVar("T")
OrgQuery = Annotated[str | None, Query(max_length=64, description="Required with an admin key.")]


@router.post("/oauth/start", status_code=status.HTTP_201_CREATED)
async def start_oauth(
    body: OAuthStartRequest, principal: CurrentPrincipal, runtime: CurrentRuntime
) -> OAuthStarted:
    """Begin an authorization-code flow: the URL to send the user to, and its state."""
    org_id = acting_org(principal, runtime, body.org_id)
    started = await _call(
        oauth_flow.start_authorization,
        runtime,
        org_id,
        body.provider,
        name=body.name,
        account=body.account or {},
    )
    return OAuthStarted(
        authorize_url=started.authorize_url, state=started.state, expires_in=started.expires_in
    )


@router.post("/oauth/callback", status_code=status.HTTP_201_CREATED)
async def oauth_callback(
    body: OAuthCallbackRequest, principal: CurrentPrincipal, runtime: CurrentRuntime
) -> Connection:
    """Finish the flow with the code and state the provider sent back."""
    view = await _call(
        oauth_flow.complete_authorization,
        runtime,
        _text(body.state, "state"),
        _text(body.code, "code"),
        caller_org=principal.org_id,
        actor=principal.actor,
        account=body.account or {},
        callback=body.callback or {},
    )
    return Connection.model_validate(view)


@router.get("/oauth/callback", status_code=status.HTTP_201_CREATED)
async def oauth_redirect(
    request: Request,
    runtime: CurrentRuntime,
    state: Annotated[str, Query(max_length=512)] = "",
    code: Annotated[str, Query(max_length=4096)] = "",
    error: Annotated[str | None, Query(max_length=512)] = None,
) -> Connection:
    """The provider's browser redirect: the state alone says which org and connection."""
    if error is not None:
        raise field_error(Refused, "error", f"the provider reported {error[:100]!r}")
    view = await _call(
        oauth_flow.complete_authorization,
        runtime,
        state,
        code,
        caller_org=None,
        actor="oauth-redirect",
        callback={k: v for k, v in request.query_params.items() if k not in REDIRECT_OWN},
    )
    return Connection.model_validate(view)


@router.post("", status_code=status.HTTP_201_CREATED)
async def connect(
    body: ConnectRequest, principal: CurrentPrincipal, runtime: CurrentRuntime
) -> Connection:
    """Connect with an API key, basic credentials, an admin credential's account
    identifier, or our app's client credentials (no browser involved)."""
    org_id = acting_org(principal, runtime, body.org_id)
    view = await _call(
        direct.connect_direct,
        runtime,
        org_id,
        body.provider,
        actor=principal.actor,
        name=body.name,
        account=body.account or {},
        secrets=body.model_dump(include=set(direct.SECRET_FIELDS), exclude_unset=True),
        operator=principal.is_admin,
    )
    return Connection.model_validate(view)


@router.get("")
async def list_connections(
    principal: CurrentPrincipal,
    runtime: CurrentRuntime,
    org_id: OrgQuery = None,
    provider: OrgQuery = None,
) -> Page[Connection]:
    """The org's connections (no secrets)."""
    org = acting_org(principal, runtime, org_id)
    items = await _call(records.list_connections, runtime, org, provider=provider)
    return Page[Connection](items=[Connection.model_validate(i) for i in items])


@router.get("/{connection_id}")
async def show_connection(
    connection_id: str,
    principal: CurrentPrincipal,
    runtime: CurrentRuntime,
    org_id: OrgQuery = None,
) -> Connection:
    """One connection (no secrets); 404 when it is not the org's."""
    org = acting_org(principal, runtime, org_id)
    return Connection.model_validate(
        await _call(records.show_connection, runtime, org, connection_id)
    )


@router.post("/{connection_id}/check")
async def check_connection(
    connection_id: str,
    principal: CurrentPrincipal,
    runtime: CurrentRuntime,
    org_id: OrgQuery = None,
) -> CheckResult:
    """Validate the connection with the catalog's cheap authenticated request."""
    org = acting_org(principal, runtime, org_id)
    result = await _call(checks.check_connection, runtime, org, connection_id)
    return CheckResult.model_validate(result.as_dict())


@router.delete("/{connection_id}")
async def disconnect(
    connection_id: str,
    principal: CurrentPrincipal,
    runtime: CurrentRuntime,
    org_id: OrgQuery = None,
) -> Connection:
    """Disconnect: secrets forgotten, status ``disconnected``, jobs park until reconnect."""
    org = acting_org(principal, runtime, org_id)
    view = await _call(records.disconnect, runtime, org, connection_id, actor=_actor(principal))
    return Connection.model_validate(view)


def _text(value: str | None, field: str) -> str:
    """The OAuth callback's ``state`` and ``code``: 400 when missing, as providers expect."""
    if not value:
        raise field_error(Refused, field, "is required")
    return value


async def _call(fn: Callable[..., T], runtime: Runtime, *args: Any, **kwargs: Any) -> T:
    """Run a connection use case off the event loop, with its dependencies."""
    return await run_in_threadpool(fn, connection_deps(runtime), *args, **kwargs)


def _actor(principal: Principal) -> str:
    return principal.actor
