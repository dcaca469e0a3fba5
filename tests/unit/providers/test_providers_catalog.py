"""The bundled catalog: every seed provider present, complete and internally consistent."""

from __future__ import annotations

from typing import get_args

import pytest

from providers.ratelimit_feedback import PARSERS
from providers.registry import Catalog
from providers.spec import (
    AdminCredentialAuth,
    FeedbackParserName,
    OAuth2ClientCredentialsAuth,
    OAuth2CodeAuth,
)

#: Every provider the seeds name (issue 4), as catalog names.
SEED_PROVIDERS = [
    "shopify", "woocommerce", "square", "bigcommerce", "ecwid", "stripe", "paypal",
    "square_payments", "authorize_net", "quickbooks", "mailchimp", "sendgrid", "mailgun",
    "constant_contact", "klaviyo", "hubspot", "salesforce", "pipedrive", "zoho_crm",
    "activecampaign", "gohighlevel", "kustomer", "housecall_pro", "slack", "discord", "twilio",
    "telegram", "whatsapp_twilio", "facebook_messenger", "google_analytics", "mixpanel",
    "amplitude", "google_sheets", "airtable", "google_workspace", "microsoft_365", "zapier",
    "make", "n8n", "custom_webhook", "facebook", "instagram", "twitter", "linkedin",
    "google_calendar", "calendly", "microsoft_outlook", "cal_com", "typeform", "google_forms",
    "toast", "clover", "lightspeed", "opentable", "dropbox", "google_drive", "openai",
]  # fmt: skip

#: Seed 003 names these as centrally credentialed (operator keys, org gives an identifier).
ADMIN_CREDENTIAL_PROVIDERS = [
    "shopify", "klaviyo", "kustomer", "facebook_messenger", "openai", "whatsapp_twilio",
]  # fmt: skip


def test_every_seed_provider_is_present(catalog: Catalog) -> None:
    """All 57 seed providers load, and nothing else sneaks in."""
    assert len(SEED_PROVIDERS) == 57
    assert sorted(SEED_PROVIDERS) == catalog.names()


@pytest.mark.parametrize("name", SEED_PROVIDERS)
def test_entry_is_complete(catalog: Catalog, name: str) -> None:
    """Each entry has docs, a rate-limit key, feedback sources and a pagination style."""
    spec = catalog.get(name)
    assert spec.display_name and spec.categories
    assert spec.docs_url.startswith("https://")
    assert spec.rate_limit.key.split(":")[0], "rate-limit key needs a namespace prefix"
    assert spec.rate_limit.feedback, "every provider signals limits somehow (Retry-After at least)"
    assert spec.pagination.style
    if isinstance(spec.auth, OAuth2CodeAuth):
        assert spec.auth.authorize_url.startswith("https://")
    if isinstance(spec.auth, OAuth2CodeAuth | OAuth2ClientCredentialsAuth):
        assert spec.auth.token_url.startswith("https://")


@pytest.mark.parametrize("name", ADMIN_CREDENTIAL_PROVIDERS)
def test_seed_003_providers_use_admin_credentials(catalog: Catalog, name: str) -> None:
    """Seed 003's centralized providers declare the operator secrets they need."""
    auth = catalog.get(name).auth
    assert isinstance(auth, AdminCredentialAuth)
    assert any(secret.required for secret in auth.secrets)


@pytest.mark.parametrize("name", SEED_PROVIDERS)
def test_identifier_examples_render_urls(catalog: Catalog, name: str) -> None:
    """An account built from the identifier examples renders the base URL and rate key."""
    spec = catalog.get(name)
    account = {ident.name: ident.example for ident in spec.account_identifiers}
    base = spec.base_url_for(account)
    assert base.startswith("https://") and "{" not in base
    assert "{" not in spec.rate_limit_key(account, connection="c1")


def test_feedback_parser_names_match_implementations() -> None:
    """The names the schema accepts are exactly the parsers that exist."""
    assert set(get_args(FeedbackParserName)) == set(PARSERS)


def test_rate_limit_keys_of_the_design_examples(catalog: Catalog) -> None:
    """Shopify counts per shop, HubSpot per portal, Airtable per base."""
    assert catalog.get("shopify").rate_limit_key({"shop": "acme"}) == "shopify:acme:default"
    assert catalog.get("hubspot").rate_limit_key({"portal_id": "42"}, app="a") == "hubspot:42:a"
    assert (
        catalog.get("airtable").rate_limit_key({"base_id": "appABCDEFGHIJKLMN"})
        == "airtable:appABCDEFGHIJKLMN"
    )


def test_rotating_refresh_tokens_are_marked(catalog: Catalog) -> None:
    """Providers known to rotate refresh tokens say so; Google and HubSpot do not rotate."""
    for name in ("quickbooks", "airtable", "microsoft_365"):
        auth = catalog.get(name).auth
        assert isinstance(auth, OAuth2CodeAuth) and auth.refresh_token_rotates, name
    for name in ("google_calendar", "hubspot"):
        auth = catalog.get(name).auth
        assert isinstance(auth, OAuth2CodeAuth) and not auth.refresh_token_rotates, name
