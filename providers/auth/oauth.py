"""OAuth2 token endpoint calls: code exchange, refresh and client credentials.

Workers own *when* to refresh (row lock, version fence, margin); this module owns *how*:
the request shape the catalog entry prescribes (client auth method, scopes, PKCE), and the
mapping of the answer into a :class:`TokenSet` or an error of the usual tree. A refused
grant is :class:`InvalidGrant` (permanent: the connection needs the user again); a refused
client is :class:`AuthError`; outages are transient like any other call.

A rotating provider's new refresh token is in the returned :class:`TokenSet`; callers must
persist it before using the access token (the old one is already dead).
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import httpx

from providers.errors import (
    AuthError,
    ConnectionFailed,
    DestinationRefused,
    InvalidAccountError,
    InvalidGrant,
    MalformedResponse,
    PermanentError,
    RequestTimeout,
    ServerError,
)
from providers.outbound import UNREACHABLE, OutboundPolicy, OutboundRefused, shared_client
from providers.spec import OAuth2ClientCredentialsAuth, OAuth2CodeAuth, ProviderSpec
from providers.templates import render

TOKEN_TIMEOUT = httpx.Timeout(20.0, connect=5.0)


@dataclass(frozen=True)
class AppCredentials:
    """Our OAuth client registration at the provider (from settings)."""

    client_id: str
    client_secret: str = field(repr=False)

    def __repr__(self) -> str:
        return f"AppCredentials(client_id={self.client_id!r})"


def app_credentials_from_settings(
    spec: ProviderSpec, provider_settings: Mapping[str, Any]
) -> AppCredentials:
    """Our OAuth client registration for ``spec`` out of ``settings.providers[<name>]``.

    Raises :class:`PermanentError` naming the environment variable that is missing: no
    retry will make an unset variable appear.
    """
    values = {}
    for key in ("client_id", "client_secret"):
        value = provider_settings.get(key)
        if value in (None, ""):
            env = f"SWITCHYARD_PROVIDERS__{spec.name.upper()}__{key.upper()}"
            raise PermanentError(
                f"{spec.name}: OAuth app setting {env} is not set", provider=spec.name
            )
        values[key] = str(value)
    return AppCredentials(values["client_id"], values["client_secret"])


@dataclass(frozen=True)
class TokenSet:
    """What a token endpoint returned; ``expires_at`` is epoch seconds (None: no expiry)."""

    access_token: str = field(repr=False)
    refresh_token: str | None = field(default=None, repr=False)
    expires_at: float | None = None
    scope: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict, repr=False)

    def __repr__(self) -> str:
        return f"TokenSet(expires_at={self.expires_at}, scope={self.scope!r})"

    def expires_within(self, seconds: float, now: float) -> bool:
        """True when the access token expires within ``seconds`` of ``now``."""
        return self.expires_at is not None and self.expires_at - now <= seconds


@dataclass(frozen=True)
class Pkce:
    """A PKCE verifier and its S256 challenge."""

    verifier: str = field(repr=False)
    challenge: str

    @classmethod
    def new(cls) -> Pkce:
        verifier = secrets.token_urlsafe(64)
        digest = hashlib.sha256(verifier.encode()).digest()
        return cls(verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode())


class TokenClient:
    """Calls one provider's token endpoint for one account."""

    def __init__(
        self,
        spec: ProviderSpec,
        app: AppCredentials,
        account: Mapping[str, str] | None = None,
        transport: httpx.BaseTransport | None = None,
        *,
        clock: Callable[[], float] = time.time,
        policy: OutboundPolicy | None = None,
    ) -> None:
        if not isinstance(spec.auth, OAuth2CodeAuth | OAuth2ClientCredentialsAuth):
            raise TypeError(f"{spec.name} does not use OAuth2 ({spec.auth.mode})")
        self.spec = spec
        self._auth = spec.auth
        self._app = app
        self._values = spec.template_values(account or {}, require_all=False)
        self._transport = transport
        self._policy = policy
        self._clock = clock

    def authorize_url(self, redirect_uri: str, state: str, pkce: Pkce | None = None) -> str:
        """Where to send the user's browser to grant access."""
        if not isinstance(self._auth, OAuth2CodeAuth):
            raise TypeError(f"{self.spec.name} has no authorization step")
        params = {
            "response_type": "code",
            "client_id": self._app.client_id,
            "redirect_uri": redirect_uri,
            "state": state,
            **self._auth.authorize_params,
        }
        if self._auth.scopes:
            params["scope"] = self._auth.scope_separator.join(self._auth.scopes)
        if pkce is not None:
            params.update(code_challenge=pkce.challenge, code_challenge_method="S256")
        return f"{self._render(self._auth.authorize_url)}?{urlencode(params)}"

    def exchange_code(self, code: str, redirect_uri: str, pkce: Pkce | None = None) -> TokenSet:
        """Trade an authorization code for tokens."""
        form = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri}
        if pkce is not None:
            form["code_verifier"] = pkce.verifier
        return self._call(form, previous_refresh=None)

    def refresh(self, refresh_token: str) -> TokenSet:
        """New tokens from a refresh token; a non-rotating provider keeps the old one."""
        form = {"grant_type": "refresh_token", "refresh_token": refresh_token}
        return self._call(form, previous_refresh=refresh_token)

    def client_credentials(self) -> TokenSet:
        """An app token (client credentials grant)."""
        form = {"grant_type": "client_credentials"}
        if self._auth.scopes:
            form["scope"] = self._auth.scope_separator.join(self._auth.scopes)
        return self._call(form, previous_refresh=None)

    def _call(self, form: dict[str, str], previous_refresh: str | None) -> TokenSet:
        name = self.spec.name
        auth: httpx.Auth | httpx._client.UseClientDefault = httpx.USE_CLIENT_DEFAULT
        if self._auth.token_auth_method == "client_secret_basic":  # noqa: S105 - a method name
            auth = httpx.BasicAuth(self._app.client_id, self._app.client_secret)
        else:
            secret = {"client_id": self._app.client_id, "client_secret": self._app.client_secret}
            form = {**form, **secret}
        url = self._render(self._auth.token_url)
        headers = {"Accept": "application/json"}
        try:
            response = self._post(url, form, auth, headers)
        except OutboundRefused:
            raise DestinationRefused(
                f"{name}: token endpoint: {UNREACHABLE}", provider=name
            ) from None
        except (httpx.ConnectError, httpx.ConnectTimeout):
            raise ConnectionFailed(
                f"{name}: token endpoint: {UNREACHABLE}", provider=name
            ) from None
        except httpx.TimeoutException:
            raise RequestTimeout(f"{name}: token endpoint timed out", provider=name) from None
        except httpx.HTTPError as exc:
            message = f"{name}: token endpoint unreachable ({type(exc).__name__})"
            raise ConnectionFailed(message, provider=name) from None
        body = _json(response)
        _raise_for_error(name, response.status_code, body)
        return self._token_set(body, previous_refresh)

    def _post(
        self,
        url: str,
        form: dict[str, str],
        auth: httpx.Auth | httpx._client.UseClientDefault,
        headers: dict[str, str],
    ) -> httpx.Response:
        """POST through the given transport (the sandbox), else the guarded shared pool."""
        if self._transport is None:
            return shared_client(self._policy).post(
                url, data=form, auth=auth, headers=headers, timeout=TOKEN_TIMEOUT
            )
        with httpx.Client(transport=self._transport, timeout=TOKEN_TIMEOUT) as http:
            return http.post(url, data=form, auth=auth, headers=headers)

    def _render(self, template: str) -> str:
        try:
            return render(template, self._values)
        except KeyError as exc:
            raise InvalidAccountError(self.spec.name, str(exc.args[0]), "is required") from None

    def _token_set(self, body: dict[str, Any], previous_refresh: str | None) -> TokenSet:
        lifetime = body.get("expires_in", self._auth.token_lifetime_seconds)
        try:
            expires_at = None if lifetime in (None, "") else self._clock() + float(lifetime)
        except (TypeError, ValueError):
            expires_at = None
        refresh = body.get("refresh_token") or previous_refresh
        hidden = {"access_token", "refresh_token", "id_token"}
        return TokenSet(
            access_token=body["access_token"],
            refresh_token=refresh if isinstance(refresh, str) else None,
            expires_at=expires_at,
            scope=body.get("scope") if isinstance(body.get("scope"), str) else None,
            extra={k: v for k, v in body.items() if k not in hidden},
        )


def _raise_for_error(name: str, status: int, body: Any) -> None:
    """Map a token endpoint's failure (status and RFC 6749 ``error``) into the error tree."""
    error = body.get("error") if isinstance(body, dict) else None
    refused = error in ("invalid_grant", "invalid_refresh_token")
    common: dict[str, Any] = {"provider": name, "status": status}
    if status >= 500:
        raise ServerError(f"{name}: token endpoint answered {status}", **common)
    if refused:
        raise InvalidGrant(f"{name}: {error} (the user must reconnect)", **common)
    if status in (401, 403) or error == "invalid_client":
        raise AuthError(f"{name}: token endpoint refused the client ({error or status})", **common)
    if status >= 400 or error or (isinstance(body, dict) and body.get("ok") is False):
        raise PermanentError(f"{name}: token endpoint error {error or status}", **common)
    if not isinstance(body, dict) or not isinstance(body.get("access_token"), str):
        raise MalformedResponse(f"{name}: token response has no access_token", **common)


def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except (ValueError, UnicodeDecodeError):
        return None
