"""Airtable, Square, Mailchimp and Pipedrive: their list endpoints (syncs) are served from
datasets (:mod:`providers.sandbox.datasets`) and their write endpoints (actions) by the write
store (:mod:`providers.sandbox.writes`); these profiles add what the sandbox needs around them: where each API lives (account segments in
the path for Mailchimp's data center and Pipedrive's company domain) and OAuth tokens.
"""

from __future__ import annotations

import re
from typing import Any

from providers.sandbox.profile import Profile, TokenPolicy


class Airtable(Profile):
    """Web API v0: bases in the path, rotating refresh tokens, 5 requests/s per base."""

    name = catalog_name = "airtable"
    token = TokenPolicy(lifetime=3600, rotates=True)
    grant_path = "/oauth2/v1/token"
    rate_limit = 5
    rate_window = 1.0

    def catalog_overrides(self, root: str) -> dict[str, str]:
        return {**super().catalog_overrides(root), "base_url": root + "/v0"}


class Square(Profile):
    """Connect v2: ``cursor`` in the body, long-lived tokens."""

    name = catalog_name = "square"
    token = TokenPolicy(lifetime=2_592_000, rotates=False)
    grant_path = "/oauth2/token"
    rate_limit = 100
    rate_window = 1.0

    def token_body(self, token: Any, include_refresh: bool) -> dict[str, Any]:
        merchant = {"merchant_id": "ML" + self.account_tag}  # whose token it is
        return {**super().token_body(token, include_refresh), **merchant}

    def catalog_overrides(self, root: str) -> dict[str, str]:
        return {**super().catalog_overrides(root), "base_url": root + "/v2"}


class Mailchimp(Profile):
    """Marketing API 3.0 under the account's data center (first path segment here)."""

    name = catalog_name = "mailchimp"
    token = TokenPolicy(lifetime=None, rotates=False)
    account_segments = 1
    rate_limit = 100
    rate_window = 1.0

    def split(self, path: str) -> tuple[str, str]:
        match = re.match(r"/([a-z]{2,4}[0-9]{1,3})(/.*)$", path)
        return (match.group(1), match.group(2)) if match else ("default", path)

    def catalog_overrides(self, root: str) -> dict[str, str]:
        return {**super().catalog_overrides(root), "base_url": root + "/{dc}/{api_version}"}


class Pipedrive(Profile):
    """API v1 under the company domain (first path segment here)."""

    name = catalog_name = "pipedrive"
    token = TokenPolicy(lifetime=3600, rotates=False)
    account_segments = 1
    rate_limit = 200
    rate_window = 2.0

    def token_body(self, token: Any, include_refresh: bool) -> dict[str, Any]:
        domain = {"api_domain": f"https://co{self.account_tag.lower()}.pipedrive.com"}
        return {**super().token_body(token, include_refresh), **domain}

    def split(self, path: str) -> tuple[str, str]:
        match = re.match(r"/([a-z0-9][a-z0-9-]{0,62})(/api/.*)$", path)
        return (match.group(1), match.group(2)) if match else ("default", path)

    def catalog_overrides(self, root: str) -> dict[str, str]:
        return {**super().catalog_overrides(root), "base_url": root + "/{company_domain}/api/v1"}
