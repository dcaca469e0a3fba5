"""Provider hooks that reclassify responses the status code alone would misread."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from providers.auth import AdminSecrets, AppCredentials, BearerToken, TokenClient
from providers.client import ProviderClient
from providers.errors import AuthError, InvalidAccountError, PermanentError, RateLimited
from providers.registry import Catalog


def answer(catalog: Catalog, name: str, status: int, body: Any, credential: Any = None) -> None:
    spec = catalog.get(name)
    account = {ident.name: ident.example for ident in spec.account_identifiers}
    transport = httpx.MockTransport(lambda request: httpx.Response(status, json=body))
    client = ProviderClient(spec, account, credential or BearerToken("t"), transport=transport)
    client.get("/x")


@pytest.mark.parametrize(
    ("reason", "wait"),
    [("rateLimitExceeded", 10.0), ("userRateLimitExceeded", 10.0), ("quotaExceeded", 3600.0)],
)
def test_google_403_rate_reasons_are_rate_limited(
    catalog: Catalog, reason: str, wait: float
) -> None:
    """Google's 403 rate-limit reasons become RateLimited with a wait fitting the quota."""
    body = {"error": {"code": 403, "errors": [{"domain": "usageLimits", "reason": reason}]}}
    with pytest.raises(RateLimited) as info:
        answer(catalog, "google_calendar", 403, body)
    assert info.value.retry_after == wait
    assert info.value.provider == "google_calendar"


def test_google_403_forbidden_stays_permanent(catalog: Catalog) -> None:
    """A 403 for missing permission is still a permanent error."""
    body = {"error": {"code": 403, "errors": [{"reason": "forbidden"}]}}
    with pytest.raises(PermanentError):
        answer(catalog, "google_drive", 403, body)


@pytest.mark.parametrize("code", [4, 17, 32, 613, 80001])
def test_meta_throttling_codes_are_rate_limited(catalog: Catalog, code: int) -> None:
    """Graph API throttling codes on a 400/403 become RateLimited."""
    with pytest.raises(RateLimited):
        answer(catalog, "facebook", 400, {"error": {"code": code, "type": "OAuthException"}})


def test_meta_expired_token_is_auth_error(catalog: Catalog) -> None:
    """Graph API code 190 on a 400 is an expired token: AuthError, so the worker refreshes."""
    secrets = AdminSecrets({"page_access_token": "p"})
    with pytest.raises(AuthError):
        answer(catalog, "facebook_messenger", 400, {"error": {"code": 190}}, secrets)


def test_meta_other_errors_stay_permanent(catalog: Catalog) -> None:
    """Other Graph API errors keep their status meaning."""
    with pytest.raises(PermanentError):
        answer(catalog, "instagram", 400, {"error": {"code": 100, "message": "bad param"}})


def test_salesforce_token_url_needs_its_host(catalog: Catalog) -> None:
    """A templated token URL without its identifier is refused naming the identifier."""
    client = TokenClient(catalog.get("salesforce"), AppCredentials("id", "secret"))
    with pytest.raises(InvalidAccountError, match="instance_host"):
        client.refresh("r")
