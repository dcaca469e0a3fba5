"""Every catalog entry's auth mode has a strategy that puts the credential on the wire."""

from __future__ import annotations

import base64
from typing import Any

import httpx
import pytest

from providers.auth import AdminSecrets, ApiKey, BasicCredential, BearerToken
from providers.client import ProviderClient
from providers.registry import load_catalog
from providers.spec import (
    AdminCredentialAuth,
    ApiKeyAuth,
    BasicAuth,
    BasicInjection,
    HeaderInjection,
    OAuth2ClientCredentialsAuth,
    OAuth2CodeAuth,
    Placement,
    ProviderSpec,
)
from providers.templates import render

CATALOG = load_catalog()
SECRET = "s3cret-value-42"


def credential_for(spec: ProviderSpec) -> Any:
    auth = spec.auth
    if isinstance(auth, OAuth2CodeAuth | OAuth2ClientCredentialsAuth):
        return BearerToken(SECRET)
    if isinstance(auth, ApiKeyAuth):
        return ApiKey(SECRET)
    if isinstance(auth, BasicAuth):
        return BasicCredential("user-1", SECRET)
    if isinstance(auth, AdminCredentialAuth):
        return AdminSecrets({s.name: f"{SECRET}-{s.name}" for s in auth.secrets})
    return None


def sent_request(spec: ProviderSpec) -> httpx.Request:
    seen: list[httpx.Request] = []

    def record(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"ok": True})

    account = {ident.name: ident.example for ident in spec.account_identifiers}
    client = ProviderClient(
        spec, account, credential_for(spec), transport=httpx.MockTransport(record)
    )
    try:
        client.request("POST", "/probe", json={"createTransactionRequest": {}})
    finally:
        client.close()
    return seen[-1]


def wire(request: httpx.Request) -> str:
    return f"{request.url} {dict(request.headers)} {request.content.decode(errors='replace')}"


def placed(request: httpx.Request, placement: Placement, secret: str) -> bool:
    value = placement.prefix + secret
    if placement.location == "header":
        return request.headers.get(placement.name) == value
    if placement.location == "query":
        return request.url.params.get(placement.name) == secret
    return request.url.path.startswith(f"/{value}/") or f"/{value}/" in request.url.path


def basic(username: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()


@pytest.mark.parametrize("name", CATALOG.names())
def test_credential_lands_where_the_catalog_says(name: str) -> None:
    """For every entry the strategy of its auth mode places the credential (or none)."""
    spec = CATALOG.get(name)
    request = sent_request(spec)
    auth = spec.auth
    if auth.mode == "none":
        assert "authorization" not in request.headers and SECRET not in wire(request)
        return
    if spec.hooks is not None:  # a hook may move the credential (e.g. into the body)
        assert SECRET in wire(request)
        return
    if isinstance(auth, OAuth2CodeAuth | OAuth2ClientCredentialsAuth | ApiKeyAuth):
        assert placed(request, auth.placement, SECRET)
    elif isinstance(auth, BasicAuth):
        assert request.headers["Authorization"] == basic(auth.username or "user-1", SECRET)
    else:
        assert isinstance(auth, AdminCredentialAuth)
        values = {s.name: f"{SECRET}-{s.name}" for s in auth.secrets}
        inject = auth.inject
        if isinstance(inject, BasicInjection):
            expected = basic(render(inject.username, values), render(inject.password, values))
            assert request.headers["Authorization"] == expected
        elif isinstance(inject, HeaderInjection):
            assert request.headers[inject.name] == render(inject.value, values)
        else:
            assert request.url.params[inject.name] == render(inject.value, values)


def test_every_auth_mode_of_the_catalog_is_exercised() -> None:
    """The catalog's modes are exactly the six the strategies know."""
    modes = {CATALOG.get(name).auth.mode for name in CATALOG.names()}
    assert modes == {
        "oauth2_code",
        "oauth2_client_credentials",
        "api_key",
        "basic",
        "admin_credential",
        "none",
    }
