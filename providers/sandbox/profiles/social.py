"""OAuth providers the sandbox fakes for one write each: X, Facebook Pages, Constant Contact
and Zoho CRM (their write routes live in :mod:`providers.sandbox.writes`)."""

from __future__ import annotations

import httpx

from providers.sandbox.profile import Profile, TokenPolicy


class _OAuthWrites(Profile):
    """Bearer tokens from the sandbox's token endpoint; the base URL is ``root + template``."""

    token = TokenPolicy(lifetime=7200, rotates=False)
    template = ""

    def catalog_overrides(self, root: str) -> dict[str, str]:
        return {**super().catalog_overrides(root), "base_url": root + self.template}


class Twitter(_OAuthWrites):
    name = catalog_name = "twitter"
    token = TokenPolicy(lifetime=7200, rotates=True)
    template = "/2"


class Facebook(_OAuthWrites):
    name = catalog_name = "facebook"
    token = TokenPolicy(lifetime=5_184_000, rotates=False, refresh_returns_refresh_token=False)
    template = "/{api_version}"


class ConstantContact(_OAuthWrites):
    name = catalog_name = "constant_contact"
    token = TokenPolicy(lifetime=86_400, rotates=True)
    template = "/{api_version}"


class ZohoCrm(_OAuthWrites):
    """Zoho sends ``Authorization: Zoho-oauthtoken <token>``; the data center is the first
    path segment here."""

    name = catalog_name = "zoho_crm"
    token = TokenPolicy(lifetime=3600, rotates=False, refresh_returns_refresh_token=False)
    template = "/{dc}/crm/{api_version}"
    account_segments = 1

    def presented_secret(self, request: httpx.Request) -> str | None:
        header = request.headers.get("Authorization", "")
        prefix = "Zoho-oauthtoken "
        return header.removeprefix(prefix) if header.startswith(prefix) else None
