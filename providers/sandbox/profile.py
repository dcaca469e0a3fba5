"""The base of every sandboxed provider: auth check, rate window, list endpoint, errors.

A profile reproduces one provider's *real* conventions by hand (header names, error bodies,
pagination parameters) rather than reading them from the catalog, so client tests against
the sandbox check the catalog against the provider's documented behaviour, not against
itself.
"""

from __future__ import annotations

import base64
import json
import random
from dataclasses import dataclass, field
from typing import Any

import httpx


def json_response(status: int, body: Any, headers: dict[str, str] | None = None) -> httpx.Response:
    """A JSON response with the given status and headers."""
    return httpx.Response(
        status,
        content=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", **(headers or {})},
    )


@dataclass(frozen=True)
class TokenPolicy:
    """How a provider's OAuth token endpoint behaves."""

    lifetime: int | None = 3600
    rotates: bool = False
    refresh_returns_refresh_token: bool = True
    extra: dict[str, Any] = field(default_factory=dict)
    #: Seconds a rotated refresh token may still be replayed, answering with the same new
    #: pair (Xero's 30 minutes, Okta's grace period, Auth0's reuse interval). 0: dead at once.
    reuse_grace: float = 0.0


@dataclass
class Window:
    """A fixed rate window for one (provider, account)."""

    started: float
    used: int = 0


@dataclass
class Call:
    """One request as a profile sees it: the account, the path after it, the window."""

    request: httpx.Request
    account: str
    path: str
    prefix: str
    window: Window
    limit: int
    reset_in: float

    @property
    def params(self) -> httpx.QueryParams:
        return self.request.url.params

    def int_param(self, name: str, default: int) -> int:
        try:
            return int(self.params.get(name, default))
        except ValueError:
            return default

    def origin(self) -> str:
        url = self.request.url
        return f"{url.scheme}://{url.netloc.decode()}"


class Profile:
    """Defaults shared by the sandboxed providers; subclasses override what differs."""

    name = "base"
    #: The catalog entry this profile fakes (None for the generic provider).
    catalog_name: str | None = None
    token: TokenPolicy | None = TokenPolicy()
    rate_limit = 100
    rate_window = 10.0
    record_count = 25
    #: Path segments naming the account (e.g. Shopify's shop) right after the provider prefix.
    account_segments = 0
    #: For profiles with a static key instead of OAuth: the secret the sandbox accepts.
    static_secret: str | None = None
    #: Path (after the provider prefix) of the token endpoint, if the provider has one.
    grant_path: str | None = "/oauth/token"
    #: Distinguishes the accounts this sandbox's tokens belong to (Slack team, HubSpot
    #: portal...) from another sandbox's: set per :class:`Sandbox`, 8 upper-case hex digits.
    account_tag: str = "0000CAFE"

    def split(self, path: str) -> tuple[str, str]:
        """(account, rest of the path): the first ``account_segments`` segments name it."""
        if not self.account_segments:
            return "default", path
        parts = path.lstrip("/").split("/")
        account = "/".join(parts[: self.account_segments])
        return account, "/" + "/".join(parts[self.account_segments :])

    def catalog_overrides(self, root: str) -> dict[str, str]:
        """Settings overrides pointing the catalog entry at this profile under ``root``."""
        overrides = {"base_url": root}
        if self.token is not None and self.grant_path is not None:
            overrides["token_url"] = root + self.grant_path
            overrides["authorize_url"] = root + "/oauth/authorize"
        return overrides

    def secrets(self) -> dict[str, str]:
        """Operator secrets (settings keys) the catalog entry needs to reach this profile."""
        if self.token is not None:
            return {"client_id": "sandbox-client", "client_secret": "sandbox-secret"}
        return {}

    # -- auth ------------------------------------------------------------------------------

    def presented_secret(self, request: httpx.Request) -> str | None:
        """The credential in the request, where this provider expects it (bearer by default)."""
        header = request.headers.get("Authorization", "")
        return header[7:] if header.startswith("Bearer ") else None

    def token_body(self, token: Any, include_refresh: bool) -> dict[str, Any]:
        """The token endpoint's JSON for ``token`` (an ``IssuedToken``)."""
        body: dict[str, Any] = {"access_token": token.access_token, "token_type": "bearer"}
        if token.expires_in is not None:
            body["expires_in"] = token.expires_in
        if include_refresh and token.refresh_token:
            body["refresh_token"] = token.refresh_token
        return {**body, **(self.token.extra if self.token else {})}

    def unauthorized(self, reason: str) -> httpx.Response:
        return json_response(401, {"error": "unauthorized", "message": reason})

    # -- rate limits -----------------------------------------------------------------------

    def rate_headers(self, call: Call) -> dict[str, str]:
        return {}

    def rate_limited(self, call: Call) -> httpx.Response:
        return json_response(429, {"error": "rate_limited"}, {"Retry-After": "1"})

    # -- data ------------------------------------------------------------------------------

    def make_record(self, index: int, rng: random.Random) -> dict[str, Any]:
        first = rng.choice(["Ada", "Grace", "Alan", "Edsger", "Barbara", "Ken", "Radia"])
        return {"id": str(index), "name": f"{first} {index}", "email": f"user{index}@example.com"}

    def route(self, call: Call, records: list[dict[str, Any]]) -> httpx.Response:
        """Serve the provider's endpoints; unknown paths get a 404 in the provider's style."""
        return self.not_found(call)

    def not_found(self, call: Call) -> httpx.Response:
        return json_response(404, {"error": "not_found", "path": call.path})


def basic_credentials(request: httpx.Request) -> tuple[str, str] | None:
    """The (username, password) of an HTTP basic ``Authorization`` header, if any."""
    header = request.headers.get("Authorization", "")
    if not header.startswith("Basic "):
        return None
    try:
        user, _, password = base64.b64decode(header[6:]).decode().partition(":")
    except (ValueError, UnicodeDecodeError):
        return None
    return user, password


def page_slice(records: list[Any], start: int, size: int) -> tuple[list[Any], int | None]:
    """Records from ``start``, and the next start (None at the end)."""
    chunk = records[start : start + size]
    nxt = start + size
    return chunk, (nxt if nxt < len(records) else None)


def encode_cursor(position: int) -> str:
    return base64.urlsafe_b64encode(f"pos:{position}".encode()).decode()


def decode_cursor(cursor: str | None) -> int:
    if not cursor:
        return 0
    try:
        return int(base64.urlsafe_b64decode(cursor.encode()).decode().removeprefix("pos:"))
    except (ValueError, UnicodeDecodeError):
        return 0
