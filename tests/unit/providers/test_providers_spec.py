"""Entry helpers: identifier validation, URL and header templating."""

from __future__ import annotations

from typing import Any

import pytest

from providers.errors import InvalidAccountError, PermanentError
from providers.registry import Catalog
from providers.spec import ProviderSpec


def test_identifier_must_match_pattern(entry: dict[str, Any]) -> None:
    """A value outside the identifier's pattern is refused before any URL is built."""
    spec = ProviderSpec.model_validate(entry)
    assert spec.base_url_for({"tenant": "mycompany"}) == "https://mycompany.acme.example/api/v2"
    with pytest.raises(InvalidAccountError, match="'tenant' does not match"):
        spec.base_url_for({"tenant": "Evil!"})
    with pytest.raises(InvalidAccountError, match="'tenant' is required"):
        spec.base_url_for({})


@pytest.mark.parametrize("value", ["evil.com/", "a@b", "x?y", "x#y", "a b"])
def test_identifier_cannot_change_host_or_path(entry: dict[str, Any], value: str) -> None:
    """Even a permissive pattern cannot smuggle '/', '@', '?', '#' or spaces into a URL."""
    entry["account_identifiers"][0]["pattern"] = ".+"
    spec = ProviderSpec.model_validate(entry)
    with pytest.raises(InvalidAccountError) as info:
        spec.base_url_for({"tenant": value})
    assert isinstance(info.value, PermanentError) and isinstance(info.value, ValueError)


def test_optional_identifier_drops_its_header(catalog: Catalog) -> None:
    """Stripe-Account is sent only when the connected account id is given."""
    stripe = catalog.get("stripe")
    assert "Stripe-Account" not in stripe.headers_for({})
    headers = stripe.headers_for({"account_id": "acct_1032D82eZvKYlo2C"})
    assert headers["Stripe-Account"] == "acct_1032D82eZvKYlo2C"
    assert headers["Stripe-Version"] == stripe.api_version


def test_secret_names_include_admin_secrets(catalog: Catalog) -> None:
    """Admin secrets and app secrets are recognised as settings secrets, not overrides."""
    names = catalog.get("shopify").secret_names()
    assert {"access_token", "client_id", "client_secret", "webhook_secret"} <= names


def test_admin_injection_must_use_declared_secrets(entry: dict[str, Any]) -> None:
    """An injection template naming an undeclared secret is refused."""
    entry["auth"] = {
        "mode": "admin_credential",
        "secrets": [{"name": "api_key"}],
        "inject": {"kind": "header", "name": "Authorization", "value": "Bearer {apikey}"},
    }
    with pytest.raises(ValueError, match=r"undeclared secret\(s\) \['apikey'\]"):
        ProviderSpec.model_validate(entry)


def test_connection_policy_override_is_validated(catalog: Catalog) -> None:
    """A stored per-connection policy override merges into the catalog policy, validated."""
    hubspot = catalog.get("hubspot")
    policy = hubspot.rate_limit_with({"limit": 190, "daily_quota": 1_000_000})
    assert (policy.limit, policy.daily_quota, policy.key) == (
        190,
        1_000_000,
        hubspot.rate_limit.key,
    )
    assert hubspot.rate_limit_with(None) is hubspot.rate_limit
    with pytest.raises(ValueError, match="greater than or equal to 1"):
        hubspot.rate_limit_with({"limit": 0})
    with pytest.raises(ValueError, match=r"placeholder\(s\) \['shop'\]"):
        hubspot.rate_limit_with({"key": "hubspot:{shop}"})
