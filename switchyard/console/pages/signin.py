"""Sign in with an API key (exchanged for a session cookie) and sign out.

The sign-in form is CSRF-protected by a double-submit token: a random value in a
SameSite=Strict cookie that the form must echo, so another site cannot sign a browser in
with the attacker's key.
"""

from __future__ import annotations

import hmac
import secrets

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from storage.repositories.api_keys import ApiKeyRepository
from switchyard.console.guard import (
    COOKIE,
    CheckedForm,
    ConsoleRuntime,
    PageProblem,
    PostedForm,
    SignedIn,
    audit,
    store_of,
)
from switchyard.console.sessions import DEFAULT_LIFETIME
from switchyard.console.web import first, render

router = APIRouter()
PRE_COOKIE = "sy_console_signin"


@router.get("/sign-in", response_class=HTMLResponse)
def sign_in_page(request: Request) -> Response:
    """The sign-in form, with a fresh double-submit token."""
    token = secrets.token_urlsafe(24)
    page = render(request, "sign_in.html", {"title": "Sign in", "csrf": token}, session=None)
    _set_cookie(request, page, PRE_COOKIE, token, max_age=3600)
    return page


@router.post("/sign-in")
def sign_in(request: Request, form: PostedForm, runtime: ConsoleRuntime) -> Response:
    """Exchange the API key for a session, or show the form again with the reason."""
    expected = request.cookies.get(PRE_COOKIE, "")
    if not expected or not hmac.compare_digest(first(form, "csrf") or "", expected):
        raise PageProblem(403, "The sign-in form expired; open it again.")
    with runtime.sessions.begin() as db:
        key = ApiKeyRepository(db).authenticate(first(form, "api_key") or "")
        found = None if key is None else (key.id, key.org_id)
    if found is None:
        context = {"title": "Sign in", "csrf": expected, "error": "Unknown or revoked API key."}
        return render(request, "sign_in.html", context, session=None, status_code=401)
    token = store_of(request).create(*found)
    session = store_of(request).get(token)
    assert session is not None
    audit(runtime, session, "console.signed_in", org_id=found[1])
    answer = RedirectResponse("/console/overview", status_code=303)
    _set_cookie(request, answer, COOKIE, token, max_age=int(DEFAULT_LIFETIME.total_seconds()))
    answer.delete_cookie(PRE_COOKIE, path="/console", httponly=True, samesite="strict")
    return answer


@router.post("/sign-out")
def sign_out(
    request: Request, session: SignedIn, form: CheckedForm, runtime: ConsoleRuntime
) -> Response:
    """End the session now."""
    store_of(request).revoke(request.cookies.get(COOKIE, ""))
    audit(runtime, session, "console.signed_out", org_id=session.org_id)
    answer = RedirectResponse("/console/sign-in", status_code=303)
    answer.delete_cookie(COOKIE, path="/console")
    return answer


@router.get("")
def home() -> Response:
    return RedirectResponse("/console/overview", status_code=303)


def _set_cookie(request: Request, response: Response, name: str, value: str, max_age: int) -> None:
    """HttpOnly, SameSite=Strict, scoped to /console; Secure whenever served over TLS."""
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path="/console",
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )
