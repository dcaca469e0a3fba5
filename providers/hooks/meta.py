"""Meta's Graph API reports throttling and expired tokens in ``error.code``, often on a 400.

Codes 4, 17, 32, 613 and the 80001-80014 business-use-case range are rate limits; code 190
(``OAuthException``) is an expired or revoked token. Status codes alone would file both
under permanent errors.
"""

from __future__ import annotations

import httpx

from providers.errors import AuthError, ProviderError, RateLimited
from providers.hooks._body import json_or_none

RATE_LIMIT_CODES = frozenset({4, 17, 32, 613, *range(80001, 80015)})
TOKEN_CODES = frozenset({190, 102})


def classify(response: httpx.Response) -> ProviderError | None:
    """Map Graph API ``error.code`` values to RateLimited or AuthError."""
    if response.is_success:
        return None
    body = json_or_none(response)
    error = body.get("error") if isinstance(body, dict) else None
    code = error.get("code") if isinstance(error, dict) else None
    if code in RATE_LIMIT_CODES:
        return RateLimited(
            f"meta: rate limited (code {code})", status=response.status_code, body=response.text
        )
    if code in TOKEN_CODES:
        return AuthError(
            f"meta: access token invalid (code {code})",
            status=response.status_code,
            body=response.text,
        )
    return None
