"""Salesforce answers an exhausted API allocation with 403 ``REQUEST_LIMIT_EXCEEDED``.

A plain 403 is permanent; this one only needs waiting, so it must become
:class:`RateLimited` or the job would be dead-lettered for a quota that resets within 24 h.
"""

from __future__ import annotations

import httpx

from providers.errors import AuthError, ProviderError, RateLimited
from providers.hooks._body import json_or_none

#: Salesforce gives no reset time; wait a while before the shared limiter tries again.
LIMIT_EXCEEDED_WAIT_SECONDS = 300.0


def classify(response: httpx.Response) -> ProviderError | None:
    """Rate-limit and session errors hidden in Salesforce's error-array bodies."""
    if response.is_success:
        return None
    codes = {item.get("errorCode") for item in _errors(response)}
    if "REQUEST_LIMIT_EXCEEDED" in codes:
        return RateLimited(
            "salesforce: REQUEST_LIMIT_EXCEEDED (org API allocation exhausted)",
            provider="salesforce",
            status=response.status_code,
            body=response.text,
            retry_after=LIMIT_EXCEEDED_WAIT_SECONDS,
        )
    if "INVALID_SESSION_ID" in codes:
        return AuthError(
            "salesforce: INVALID_SESSION_ID (session expired or revoked)",
            provider="salesforce",
            status=response.status_code,
            body=response.text,
        )
    return None


def _errors(response: httpx.Response) -> list[dict[str, object]]:
    body = json_or_none(response)
    if isinstance(body, list):
        return [item for item in body if isinstance(item, dict)]
    return []
