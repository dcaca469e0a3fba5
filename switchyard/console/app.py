"""Mount the console on an API app: its routers (outside the OpenAPI), static files, the
security headers, the session store and the two page-level exception handlers."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.concurrency import run_in_threadpool

from switchyard.api.errors import service_error_response, status_of
from switchyard.console.guard import (
    OrgRequired,
    PageProblem,
    SignInRequired,
    current_session,
    optional_session,
)
from switchyard.console.headers import ConsoleHeaders
from switchyard.console.pages import (
    connections,
    dead_letters,
    jobs,
    overview,
    routes,
    signin,
    syncs,
    webhooks,
)
from switchyard.console.sessions import SessionStore
from switchyard.console.web import STATIC_DIR, render
from switchyard.runtime import Runtime
from switchyard.services.errors import ServiceError
from switchyard.services.overview import org_choices

PAGES = (signin, overview, jobs, dead_letters, connections, syncs, webhooks, routes)


def install_console(app: FastAPI, runtime: Runtime) -> None:
    """Serve the console at ``/console`` from ``app``."""
    app.state.console_sessions = SessionStore(runtime.redis, runtime.settings.workers.namespace)
    for page in PAGES:
        app.include_router(page.router, prefix="/console", include_in_schema=False)
    app.mount("/console/static", StaticFiles(directory=STATIC_DIR), name="console-static")
    app.add_exception_handler(SignInRequired, _to_sign_in)
    app.add_exception_handler(PageProblem, _problem_page)
    app.add_exception_handler(ServiceError, _refusal)
    app.add_exception_handler(OrgRequired, _org_picker)
    app.add_middleware(ConsoleHeaders)


async def _to_sign_in(request: Request, exc: Exception) -> Response:
    return RedirectResponse("/console/sign-in", status_code=303)


async def _problem_page(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, PageProblem)
    context = {"title": f"Error {exc.status}", "message": exc.message}
    session = await run_in_threadpool(optional_session, request)
    return render(request, "error.html", context, session=session, status_code=exc.status)


async def _refusal(request: Request, exc: Exception) -> Response:
    """A service refusal: an error page on console pages (with the status the API answers
    it with), the API's error body elsewhere (this handler replaces the API's)."""
    assert isinstance(exc, ServiceError)
    if not request.url.path.startswith("/console"):
        return service_error_response(exc)
    return await _problem_page(request, PageProblem(status_of(exc), str(exc)))


async def _org_picker(request: Request, exc: Exception) -> Response:
    """Admin sessions act for one org at a time on org pages: list the orgs to choose from."""
    session = await run_in_threadpool(current_session, request)
    orgs = await run_in_threadpool(org_choices, request.app.state.runtime.sessions)
    context = {"title": "Choose an organization", "orgs": orgs, "path": request.url.path}
    return render(request, "choose_org.html", context, session=session)
