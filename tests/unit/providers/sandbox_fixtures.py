"""Building clients for sandboxed providers: one place that knows each one's credential."""

from __future__ import annotations

from providers.auth import AdminSecrets, ApiKey, BasicCredential, BearerToken, Credential
from providers.client import ProviderClient
from providers.registry import Catalog
from providers.sandbox import Sandbox
from providers.sandbox.profiles.messaging import TWILIO_SID, TWILIO_TOKEN

#: Per sandboxed provider: account identifiers and (list path, params, items_path).
ACCOUNTS: dict[str, dict[str, str]] = {
    "hubspot": {"portal_id": "62515"},
    "shopify": {"shop": "acme"},
    "salesforce": {"instance_host": "mycompany.my.salesforce.com"},
    "slack": {"team_id": "T0123ABCD"},
    "stripe": {},
    "google_calendar": {},
    "quickbooks": {"realm_id": "9130347596424586"},
    "calendly": {"organization": "AAAAAAAAAAAAAAAA"},
    "twilio": {"account_sid": TWILIO_SID},
    "klaviyo": {"company_id": "ABC123"},
}
LISTS: dict[str, tuple[str, dict[str, str], str | None]] = {
    "hubspot": ("/crm/v3/objects/contacts", {}, None),
    "shopify": ("/customers.json", {}, None),
    "salesforce": ("/query", {"q": "SELECT Id, Name FROM Contact"}, None),
    "slack": ("/users.list", {}, "members"),
    "stripe": ("/customers", {}, None),
    "google_calendar": ("/calendars/primary/events", {}, None),
    "quickbooks": ("/query", {"query": "select * from Customer"}, "QueryResponse.Customer"),
    "calendly": ("/scheduled_events", {}, None),
    "twilio": ("/Messages.json", {}, "messages"),
    "klaviyo": ("/profiles/", {}, None),
}
SANDBOXED = sorted(ACCOUNTS)


def credential_for(sandbox: Sandbox, name: str) -> Credential:
    """A working credential for a sandboxed provider."""
    if name == "shopify":
        return AdminSecrets({"access_token": "shpat_sandbox"})
    if name == "klaviyo":
        return AdminSecrets({"private_api_key": "pk_sandbox"})
    if name == "stripe":
        return ApiKey("sk_test_sandbox")
    if name == "twilio":
        return BasicCredential(TWILIO_SID, TWILIO_TOKEN)
    return BearerToken(sandbox.issue_token(name).access_token)


def wrong_credential_for(name: str) -> Credential:
    """A credential of the right kind that the sandbox refuses."""
    if name in ("shopify", "klaviyo"):
        key = "access_token" if name == "shopify" else "private_api_key"
        return AdminSecrets({key: "bogus-cred-123"})
    if name == "stripe":
        return ApiKey("sk_test_bogus-cred-123")
    if name == "twilio":
        return BasicCredential(TWILIO_SID, "bogus-cred-123")
    return BearerToken("bogus-cred-123")


def client_for(
    sandbox: Sandbox, catalog: Catalog, name: str, credential: Credential | None = None
) -> ProviderClient:
    return ProviderClient(
        catalog.get(name),
        ACCOUNTS[name],
        credential or credential_for(sandbox, name),
        transport=sandbox.transport(),
    )
