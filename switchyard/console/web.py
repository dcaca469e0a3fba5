"""Rendering and form reading for console pages: one Jinja2 environment, autoescaped.

Templates and static files ship inside the package (no CDN, no build step). Every page gets
the signed-in session (for the CSRF token and the org badge) and the navigation.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from switchyard.console.sessions import ConsoleSession

HERE = Path(__file__).parent
TEMPLATES = Jinja2Templates(directory=HERE / "templates")
STATIC_DIR = HERE / "static"

NAV: list[tuple[str, str]] = [
    ("overview", "Overview"),
    ("jobs", "Jobs"),
    ("dead-letters", "Dead letters"),
    ("connections", "Connections"),
    ("syncs", "Syncs"),
    ("webhooks", "Webhooks"),
    ("routes", "Routes"),
]
"""Sections in the order the navigation shows them: (path under /console, label). A new
page is one entry here and one router in :mod:`switchyard.console.app`."""

MASK = "•••"


def mask_url(url: str | None) -> str:
    """A URL with everything past its host hidden: Slack-style URLs carry the secret in the
    path, others in the query or user info."""
    if not url:
        return ""
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    hidden = f"/{MASK}" if parts.path.strip("/") or parts.query else ""
    return f"{parts.scheme}://{host}{port}{hidden}"


SECRET_WORDS = ("secret", "token", "password", "api_key", "apikey", "authorization")


def mask_secrets(value: Any) -> Any:
    """``value`` (JSON-like) with secret-named fields hidden and URLs masked: envelopes and
    route steps carry references, but a pasted URL or token must not reach a page."""
    if isinstance(value, dict):
        return {
            k: MASK if any(w in str(k).lower() for w in SECRET_WORDS) else mask_secrets(v)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [mask_secrets(v) for v in value]
    if isinstance(value, str) and value.lower().startswith(("http://", "https://")):
        return mask_url(value)
    return value


def query(**params: Any) -> str:
    """A query string of the non-empty ``params`` (for pagination and filter links)."""
    return urlencode({k: v for k, v in params.items() if v not in (None, "")})


def org_url(session: ConsoleSession | None, path: str, org_id: str | None, **params: Any) -> str:
    """A console link that keeps an admin session's chosen org (org sessions need none)."""
    keep = org_id if session is not None and session.is_admin else None
    found = query(org_id=keep, **params)
    return f"/console/{path}" + (f"?{found}" if found else "")


TEMPLATES.env.filters["mask_url"] = mask_url
TEMPLATES.env.filters["mask_secrets"] = mask_secrets
TEMPLATES.env.globals["org_url"] = org_url
TEMPLATES.env.globals["query"] = query
TEMPLATES.env.globals["NAV"] = NAV


def render(
    request: Request,
    template: str,
    context: dict[str, Any],
    *,
    session: ConsoleSession | None,
    status_code: int = 200,
) -> HTMLResponse:
    """A page with the base layout's context filled in."""
    full = {"session": session, "section": template.split("/", 1)[0], **context}
    return TEMPLATES.TemplateResponse(request, template, full, status_code=status_code)


async def form_of(request: Request) -> dict[str, list[str]]:
    """The url-encoded form of a POST (every value of a repeated name kept)."""
    body = (await request.body()).decode("utf-8")
    return parse_qs(body, keep_blank_values=True, max_num_fields=2000)


def first(form: dict[str, list[str]], name: str) -> str | None:
    """A single-valued field, stripped; None when absent or blank."""
    value = (form.get(name) or [""])[0].strip()
    return value or None
