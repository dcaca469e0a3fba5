"""Google APIs often signal rate limits with 403 and a ``reason``, not 429.

``rateLimitExceeded``/``userRateLimitExceeded`` need a short wait; ``quotaExceeded`` and
``dailyLimitExceeded`` need a long one. Without this hook they would read as permanent 403s
and the jobs would be dead-lettered.
"""

from __future__ import annotations

import httpx

from providers.errors import ProviderError, RateLimited
from providers.hooks._body import json_or_none

SHORT_WAIT_SECONDS = 10.0
DAILY_WAIT_SECONDS = 3600.0
_SHORT = frozenset({"rateLimitExceeded", "userRateLimitExceeded"})
_DAILY = frozenset({"quotaExceeded", "dailyLimitExceeded"})


def classify(response: httpx.Response) -> ProviderError | None:
    """Rate-limit reasons on a 403 become RateLimited with a wait suited to the quota."""
    if response.status_code != 403:
        return None
    body = json_or_none(response)
    error = body.get("error") if isinstance(body, dict) else None
    errors = error.get("errors") if isinstance(error, dict) else None
    reasons = {e.get("reason") for e in errors or [] if isinstance(e, dict)}
    if reasons & _SHORT:
        wait = SHORT_WAIT_SECONDS
    elif reasons & _DAILY:
        wait = DAILY_WAIT_SECONDS
    else:
        return None
    reason = sorted(str(r) for r in reasons)[0]
    return RateLimited(
        f"google: 403 {reason}", provider=None, status=403, body=response.text, retry_after=wait
    )
