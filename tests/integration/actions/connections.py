"""Connections to sandboxed providers, each holding the credential its auth mode needs."""

from __future__ import annotations

from typing import Any

from providers.sandbox.profiles.messaging import TWILIO_SID, TWILIO_TOKEN
from providers.sandbox.profiles.outbound import TELEGRAM_TOKEN
from storage.repositories.connections import ConnectionRepository
from storage.repositories.credentials import CredentialRepository
from switchyard.runtime import Runtime

ACCOUNTS: dict[str, dict[str, str]] = {
    "hubspot": {"portal_id": "62515"},
    "salesforce": {"instance_host": "acme.my.salesforce.com"},
    "slack": {"team_id": "T0123ABCD"},
    "twilio": {"account_sid": TWILIO_SID},
    "klaviyo": {"company_id": "ABC123"},
    "shopify": {"shop": "acme"},
    "mailchimp": {"dc": "us6"},
    "pipedrive": {"company_domain": "acme"},
    "airtable": {"base_id": "appABCDEFGHIJKLMN"},
    "calendly": {"organization": "AAAAAAAAAAAAAAAA"},
    "custom_webhook": {"host": "hooks.example.com"},
    "discord": {"guild_id": "197038439483310086"},
    "stripe": {"account_id": "acct_1032D82eZvKYlo2C"},
    "facebook_messenger": {"page_id": "104928371234567"},
    "activecampaign": {"account": "mycompany"},
    "zapier": {"user_id": "1234567", "hook_id": "abc1de2"},
    "zoho_crm": {"dc": "eu"},
    "quickbooks": {"realm_id": "4620816365"},
    "make": {"region": "eu1", "hook_id": "abcdefghijklmnopqrstuvwxyz012345"},
    "n8n": {"host": "n8n.example.com", "webhook_path": "orders"},
}
API_KEYS = {
    "discord": "discord-sandbox-bot",
    "sendgrid": "SG.sandbox",
    "cal_com": "cal_sandbox",
    "stripe": "sk_test_sandbox",
    "telegram": TELEGRAM_TOKEN,
    "activecampaign": "ac-sandbox-token",
}
OPERATOR_KEYED = {
    "zapier",
    "make",
    "n8n",
    "openai",
    "klaviyo",
    "shopify",
    "custom_webhook",
    "facebook_messenger",
}  # admin credential or none


def connect(rt: Runtime, org_id: str, provider: str, name: str = "default") -> None:
    """Create ``org_id``'s connection to a sandboxed provider with a working credential."""
    assert rt.sandbox is not None
    with rt.sessions.begin() as session:
        conn = ConnectionRepository(session, org_id).create(
            provider, name=name, account_identifier=ACCOUNTS.get(provider, {})
        )
        credentials = CredentialRepository(session, org_id, rt.keyring)
        secret: dict[str, Any]
        if provider in OPERATOR_KEYED:
            return
        if provider in API_KEYS:
            secret = {"auth_mode": "api_key", "api_key": API_KEYS[provider]}
        elif provider == "twilio":
            secret = {
                "auth_mode": "basic",
                "secret": TWILIO_TOKEN,
                "extra": {"username": TWILIO_SID},
            }
        elif provider == "mailgun":
            secret = {"auth_mode": "basic", "secret": "key-sandbox", "extra": {"username": "api"}}
        else:
            token = rt.sandbox.issue_token(provider)
            secret = {
                "auth_mode": "oauth2_code",
                "access_token": token.access_token,
                "refresh_token": token.refresh_token,
            }
        credentials.store(conn.id, **secret)
