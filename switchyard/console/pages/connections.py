"""Connections: status, account identity, credential (never a secret), last error; check
and disconnect. The logic is :mod:`switchyard.services.connections`, as for ``/v1/connections``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from switchyard.console.guard import (
    CheckedForm,
    ConsoleRuntime,
    SignedIn,
    audit,
    scope_org,
)
from switchyard.console.sessions import ConsoleSession
from switchyard.console.web import first, render
from switchyard.runtime import Runtime
from switchyard.service_deps import connection_deps
from switchyard.services.connections import check as checks
from switchyard.services.connections import records

router = APIRouter(prefix="/connections")
T = TypeVar("T")


def _call(fn: Callable[..., T], runtime: Runtime, *args: Any, **kwargs: Any) -> T:
    """Run a connection use case with its dependencies; a refusal (404 for another org's)
    becomes an error page by the app's handler."""
    return fn(connection_deps(runtime), *args, **kwargs)


@router.get("", response_class=HTMLResponse)
def list_page(
    request: Request, session: SignedIn, runtime: ConsoleRuntime, org_id: str | None = None
) -> Response:
    """The org's connections."""
    org = scope_org(session, org_id)
    items = _call(records.list_connections, runtime, org)
    context = {"title": "Connections", "items": items, "org_id": org}
    return render(request, "connections/list.html", context, session=session)


@router.get("/{connection_id}", response_class=HTMLResponse)
def detail_page(
    connection_id: str,
    request: Request,
    session: SignedIn,
    runtime: ConsoleRuntime,
    org_id: str | None = None,
) -> Response:
    """One connection; 404 when it is not the org's."""
    org = scope_org(session, org_id)
    item = _call(records.show_connection, runtime, org, connection_id)
    return _detail(request, session, item)


@router.post("/{connection_id}/check", response_class=HTMLResponse)
def check(
    connection_id: str,
    request: Request,
    session: SignedIn,
    form: CheckedForm,
    runtime: ConsoleRuntime,
) -> Response:
    """Call the provider's cheap authenticated request and show the outcome."""
    org = scope_org(session, first(form, "org_id"))
    item = _call(records.show_connection, runtime, org, connection_id)
    result = _call(checks.check_connection, runtime, org, connection_id).as_dict()
    details = {"ok": result["ok"], "status": result["status"]}
    subject = ("connection", connection_id)
    audit(runtime, session, "connection.checked", org_id=org, subject=subject, details=details)
    return _detail(request, session, item, check=result)


@router.post("/{connection_id}/disconnect", response_class=HTMLResponse)
def disconnect(
    connection_id: str,
    request: Request,
    session: SignedIn,
    form: CheckedForm,
    runtime: ConsoleRuntime,
) -> Response:
    """Forget the secrets; the connection stays listed as ``disconnected`` (audited)."""
    org = scope_org(session, first(form, "org_id"))
    item = _call(records.disconnect, runtime, org, connection_id, actor=session.actor)
    return _detail(request, session, item, done="Disconnected.")


def _detail(
    request: Request, session: ConsoleSession, item: dict[str, Any], **extra: Any
) -> Response:
    """A connection's page, with the outcome of what was just done (``extra``)."""
    context = {"title": f"Connection {item['provider']}/{item['name']}", "item": item, **extra}
    return render(request, "connections/detail.html", context, session=session)
