"""Slack's Web API answers most failures with HTTP 200 and ``{"ok": false, "error": ...}``.

Without this hook every Slack failure would look like a success; the error codes decide
which branch of the error tree it belongs to.
"""

from __future__ import annotations

import httpx

from providers.errors import AuthError, PermanentError, ProviderError, RateLimited, ServerError
from providers.hooks._body import json_or_none

AUTH_ERRORS = frozenset(
    {"not_authed", "invalid_auth", "token_revoked", "token_expired", "account_inactive"}
)
TRANSIENT_ERRORS = frozenset(
    {"internal_error", "fatal_error", "service_unavailable", "request_timeout"}
)


def classify(response: httpx.Response) -> ProviderError | None:
    """Turn ``ok: false`` bodies into the matching error; leave everything else alone."""
    if response.status_code != 200:
        return None
    body = json_or_none(response)
    if not isinstance(body, dict) or body.get("ok") is not False:
        return None
    code = str(body.get("error", "unknown_error"))
    if code in AUTH_ERRORS:
        kind: type[AuthError | RateLimited | ServerError | PermanentError] = AuthError
    elif code in ("ratelimited", "rate_limited"):
        kind = RateLimited
    elif code in TRANSIENT_ERRORS:
        kind = ServerError
    else:
        kind = PermanentError
    return kind(f"slack: {code}", provider="slack", status=200, body=response.text)
