"""The sandbox's OAuth2 authorization server, shared by every sandboxed provider.

It issues opaque tokens that expire on the sandbox clock, rotates refresh tokens where the
provider's policy says so (a used rotating refresh token is dead: replaying it is
``invalid_grant``, as at QuickBooks and Airtable, unless the policy grants a reuse grace
period as Xero and Okta do), honours revocation, and counts calls per
provider so tests can assert "exactly one refresh happened".
"""

from __future__ import annotations

import itertools
import secrets
from collections import Counter
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode

import httpx

from providers.sandbox.profile import Profile, TokenPolicy, basic_credentials, json_response

CLIENT_ID = "sandbox-client"
CLIENT_SECRET = "sandbox-secret"  # noqa: S105 - a fake, printed by `switchyard sandbox`


@dataclass
class IssuedToken:
    """One access token (and the refresh token issued with it)."""

    provider: str
    access_token: str
    refresh_token: str | None
    expires_at: float | None
    expires_in: int | None
    revoked: bool = False


class TokenStore:
    """Every token the sandbox has issued, by access and by refresh token."""

    def __init__(self) -> None:
        self.by_access: dict[str, IssuedToken] = {}
        self.by_refresh: dict[str, IssuedToken] = {}
        self.calls: Counter[str] = Counter()
        #: Rotated refresh token -> (the pair that replaced it, when).
        self.rotated: dict[str, tuple[IssuedToken, float]] = {}
        self._serial = itertools.count(1)

    def issue(
        self, provider: str, policy: TokenPolicy, now: float, refresh: str | None = None
    ) -> IssuedToken:
        """A new access token; a new refresh token too unless ``refresh`` is kept."""
        serial = next(self._serial)
        token = IssuedToken(
            provider=provider,
            access_token=f"{provider}-at-{serial}-{secrets.token_hex(4)}",
            refresh_token=refresh or f"{provider}-rt-{serial}-{secrets.token_hex(4)}",
            expires_at=None if policy.lifetime is None else now + policy.lifetime,
            expires_in=policy.lifetime,
        )
        self.by_access[token.access_token] = token
        if token.refresh_token:
            self.by_refresh[token.refresh_token] = token
        return token

    def replayed(self, presented: str, policy: TokenPolicy, now: float) -> IssuedToken | None:
        """The successor of a rotated refresh token replayed within the grace period."""
        hit = self.rotated.get(presented)
        if hit is None or now - hit[1] > policy.reuse_grace:
            return None
        successor = hit[0]
        return None if successor.revoked else successor

    def valid(self, provider: str, access_token: str | None, now: float) -> str | None:
        """None when the token is usable, else why not ('expired', 'revoked', 'invalid')."""
        token = self.by_access.get(access_token or "")
        if token is None or token.provider != provider:
            return "invalid"
        if token.revoked:
            return "revoked"
        if token.expires_at is not None and now >= token.expires_at:
            return "expired"
        return None

    def revoke(self, provider: str) -> None:
        """Revoke every token of a provider (the user disconnected the app)."""
        for token in self.by_access.values():
            if token.provider == provider:
                token.revoked = True


def token_endpoint(
    store: TokenStore, profile: Profile, request: httpx.Request, now: float
) -> httpx.Response:
    """Answer a token request the way RFC 6749 (and the provider) would."""
    store.calls[profile.name] += 1
    policy = profile.token or TokenPolicy()
    form = dict(parse_qsl(request.content.decode("utf-8", "replace")))
    basic = basic_credentials(request)
    client_id, client_secret = basic or (form.get("client_id"), form.get("client_secret"))
    if (client_id, client_secret) != (CLIENT_ID, CLIENT_SECRET):
        return json_response(401, {"error": "invalid_client"})
    grant = form.get("grant_type")
    if grant == "authorization_code" and form.get("code", "").startswith("sandbox-code"):
        token = store.issue(profile.name, policy, now)
        return json_response(200, profile.token_body(token, include_refresh=True))
    if grant == "client_credentials":
        token = store.issue(profile.name, policy, now)
        return json_response(200, profile.token_body(token, include_refresh=False))
    if grant == "refresh_token":
        presented = form.get("refresh_token", "")
        replay = store.replayed(presented, policy, now)
        if replay is not None and replay.provider == profile.name:
            return json_response(200, profile.token_body(replay, include_refresh=True))
        old = store.by_refresh.get(presented)
        if old is None or old.revoked or old.provider != profile.name:
            return json_response(
                400, {"error": "invalid_grant", "error_description": "refresh token is invalid"}
            )
        if policy.rotates:
            old.revoked = True
            del store.by_refresh[old.refresh_token or ""]
            token = store.issue(profile.name, policy, now)
            if policy.reuse_grace:
                store.rotated[presented] = (token, now)
        else:
            token = store.issue(profile.name, policy, now, refresh=old.refresh_token)
        include = policy.rotates or policy.refresh_returns_refresh_token
        return json_response(200, profile.token_body(token, include_refresh=include))
    return json_response(400, {"error": "unsupported_grant_type"})


def authorize_endpoint(request: httpx.Request) -> httpx.Response:
    """Auto-approve consent: redirect straight back with a code (for demos and e2e tests)."""
    params = request.url.params
    redirect = params.get("redirect_uri")
    if not redirect:
        return json_response(400, {"error": "invalid_request", "error_description": "redirect_uri"})
    query = {"code": f"sandbox-code-{secrets.token_hex(4)}", "state": params.get("state", "")}
    separator = "&" if "?" in redirect else "?"
    return httpx.Response(302, headers={"Location": redirect + separator + urlencode(query)})
