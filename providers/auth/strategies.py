"""Strategies that inject a credential into an outgoing request, chosen by auth mode.

One strategy per *placement*, not per provider: a bearer token, an API key in a header or
the query, a path segment (Telegram), HTTP basic, or an admin-credential template. The
catalog entry says which and where; :func:`auth_for` wires the two together.
"""

from __future__ import annotations

from collections.abc import Generator, Mapping
from typing import TypeVar

import httpx

from providers.auth.credentials import (
    AdminSecrets,
    ApiKey,
    BasicCredential,
    BearerToken,
    Credential,
)
from providers.spec import (
    AdminCredentialAuth,
    ApiKeyAuth,
    BasicAuth,
    BasicInjection,
    HeaderInjection,
    NoAuth,
    OAuth2ClientCredentialsAuth,
    OAuth2CodeAuth,
    Placement,
    ProviderSpec,
)
from providers.templates import render

_C = TypeVar("_C")


class PlacementAuth(httpx.Auth):
    """One secret placed in a header, a query parameter or the first path segment."""

    def __init__(self, placement: Placement, secret: str) -> None:
        self._placement = placement
        self._secret = secret

    def __repr__(self) -> str:
        return f"PlacementAuth({self._placement.location}:{self._placement.name})"

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        place = self._placement
        value = place.prefix + self._secret
        if place.location == "header":
            request.headers[place.name] = value
        elif place.location == "query":
            request.url = request.url.copy_merge_params({place.name: value})
        else:
            request.url = request.url.copy_with(path="/" + value + request.url.path)
        yield request


class InjectionAuth(httpx.Auth):
    """An admin credential rendered from secret-name templates (seed 003)."""

    def __init__(self, spec: AdminCredentialAuth, secrets: Mapping[str, str]) -> None:
        self._inject = spec.inject
        self._values = dict(secrets)

    def __repr__(self) -> str:
        return f"InjectionAuth({self._inject.kind})"

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        inject = self._inject
        if isinstance(inject, BasicInjection):
            basic = httpx.BasicAuth(
                render(inject.username, self._values), render(inject.password, self._values)
            )
            yield from basic.auth_flow(request)
            return
        value = render(inject.value, self._values)
        if isinstance(inject, HeaderInjection):
            request.headers[inject.name] = value
        else:
            request.url = request.url.copy_merge_params({inject.name: value})
        yield request


def auth_for(spec: ProviderSpec, credential: Credential | None) -> httpx.Auth | None:
    """The strategy for ``spec``'s auth mode; a credential of the wrong kind is a TypeError."""
    mode = spec.auth
    if isinstance(mode, NoAuth):
        return None
    if isinstance(mode, OAuth2CodeAuth | OAuth2ClientCredentialsAuth):
        return PlacementAuth(mode.placement, _expect(spec, credential, BearerToken).access_token)
    if isinstance(mode, ApiKeyAuth):
        return PlacementAuth(mode.placement, _expect(spec, credential, ApiKey).key)
    if isinstance(mode, BasicAuth):
        basic = _expect(spec, credential, BasicCredential)
        return httpx.BasicAuth(mode.username or basic.username, basic.password)
    admin = _expect(spec, credential, AdminSecrets)
    missing = {s.name for s in mode.secrets if s.required} - set(admin.values)
    if missing:
        raise TypeError(f"{spec.name}: admin secrets missing: {sorted(missing)}")
    return InjectionAuth(mode, admin.values)


def _expect(spec: ProviderSpec, credential: Credential | None, kind: type[_C]) -> _C:
    if not isinstance(credential, kind):
        raise TypeError(
            f"{spec.name} uses {spec.auth.mode} auth and needs a {kind.__name__}, "
            f"got {type(credential).__name__}"
        )
    return credential
