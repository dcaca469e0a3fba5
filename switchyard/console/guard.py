"""Who may see a console page and act from it: the session cookie, CSRF, and the audit trail.

A page without a live session redirects to sign-in. A state-changing form must carry the
session's CSRF token (compared in constant time); without it the action is refused with
403 before anything happens. Objects of another org answer 404, exactly like objects that
do not exist, so an org session learns nothing by guessing URLs.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from typing import Annotated, Any

from fastapi import Depends, Request

from storage.errors import NotFoundError
from storage.repositories.api_keys import ApiKeyRepository
from storage.repositories.audit import AdminAuditRepository
from switchyard.console.sessions import ConsoleSession, SessionStore
from switchyard.console.web import first, form_of
from switchyard.runtime import Runtime

COOKIE = "sy_console"


class SignInRequired(Exception):
    """No live session: the handler redirects to the sign-in page."""


class OrgRequired(Exception):
    """An admin session opened an org's page without naming the org: offer the choice."""


class PageProblem(Exception):
    """A page-level refusal rendered as an HTML error page (404, 403, 422...)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def runtime_of(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


def store_of(request: Request) -> SessionStore:
    store: SessionStore = request.app.state.console_sessions
    return store


def current_session(request: Request) -> ConsoleSession:
    """The live session of the request's cookie whose key is still active, or redirect."""
    found = optional_session(request)
    if found is None:
        raise SignInRequired
    return found


def optional_session(request: Request) -> ConsoleSession | None:
    """:func:`current_session`, or None when signed out (error pages keep the navigation)."""
    found = store_of(request).get(request.cookies.get(COOKIE, ""))
    if found is None or not _key_active(runtime_of(request), found.key_id):
        return None
    return found


def _key_active(runtime: Runtime, key_id: str) -> bool:
    with runtime.sessions() as session:
        try:
            return ApiKeyRepository(session).get(key_id).active
        except NotFoundError:
            return False


async def checked_form(
    request: Request, session: Annotated[ConsoleSession, Depends(current_session)]
) -> dict[str, list[str]]:
    """The POSTed form, once its CSRF token matched the session's (else 403)."""
    form = await form_of(request)
    if not hmac.compare_digest(first(form, "csrf") or "", session.csrf):
        raise PageProblem(403, "The form's security token is missing or stale; reload and retry.")
    return form


def scope_org(session: ConsoleSession, org_id: str | None) -> str:
    """The org a page acts on: the session's own, or (admin) the one the URL names."""
    if session.org_id is not None:
        return session.org_id
    if not org_id:
        raise OrgRequired
    return org_id


def audit(
    runtime: Runtime,
    session: ConsoleSession,
    action: str,
    *,
    org_id: str | None,
    subject: tuple[str, str] | None = None,
    details: Mapping[str, Any] | None = None,
) -> None:
    """Record a console action in the audit trail, as the CLI records its own."""
    subject_type, subject_id = subject or (None, None)
    with runtime.sessions.begin() as db:
        AdminAuditRepository(db).record(
            session.actor,
            action,
            org_id=org_id,
            subject_type=subject_type,
            subject_id=subject_id,
            details=details,
        )


PostedForm = Annotated[dict[str, list[str]], Depends(form_of)]
"""A form read before any session exists (sign-in); handlers taking it can stay sync."""
SignedIn = Annotated[ConsoleSession, Depends(current_session)]
CheckedForm = Annotated[dict[str, list[str]], Depends(checked_form)]
ConsoleRuntime = Annotated[Runtime, Depends(runtime_of)]
