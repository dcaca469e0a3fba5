"""The limit a provider states in its answers, as the limiter adopts it for one rate key.

The catalog's limit is a promise read from documentation; the provider's headers say what
this account, app or plan really gets (HubSpot's ``Max`` per ``Interval-Milliseconds``,
``X-RateLimit-Limit``, Shopify's bucket size...). A stated limit is adopted only when it is
tighter than the catalog's (a looser one confirms the catalog's): a header describing a longer window with a larger count must
never loosen the pace. Where nothing is stated, a 429 cuts the rate (multiplicative
decrease) and grants probe it back up (additive increase) — see ``limiter_feedback.lua``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from providers.ratelimit_feedback import RateLimitFeedback
from providers.spec import RateLimitPolicy

DECREASE_FACTOR = 0.8
"""A 429 without a stated limit keeps this share of the rate (at most once per period)."""
LEARNED_TTL_MS = 3_600_000
"""A learned limit lives this long after the provider last stated it (or after a cut)."""

# A daily allocation (Salesforce ``api-usage=25/15000``, HubSpot's daily remaining) is not
# a rate: it is the org's whole budget for a rolling or calendar day, shared with every
# other app and user of the org — an org at 100 % is locked out of the API everywhere.
# So the limiter does not spread it; it stops the key while the provider reports no more
# than the reserve left, defers its jobs (reason ``quota``), and lets one request through
# per probe interval: calls made a day ago roll out of the window at a pace only the
# provider knows, and its next answer says whether room came back.
QUOTA_RESERVE = 0.05
"""Share of a stated daily allocation left to the org's other clients."""
QUOTA_PROBE_MS = 15 * 60 * 1000
"""How long a stopped key waits before one request asks again (<= 96 probes a day)."""


def daily_reserve(feedback: RateLimitFeedback) -> int:
    """Requests of the daily allocation ``feedback`` states that are left to others."""
    return math.ceil(feedback.daily_limit * QUOTA_RESERVE) if feedback.daily_limit else 0


@dataclass(frozen=True)
class StatedLimit:
    """``limit`` requests per ``period_ms``; ``burst`` is a bucket size (0: a window)."""

    limit: float
    period_ms: int
    burst: int = 0


def period_ms(policy: RateLimitPolicy) -> int:
    return math.ceil(policy.period_seconds * 1000)


def stated_limit(feedback: RateLimitFeedback, policy: RateLimitPolicy) -> StatedLimit | None:
    """The limit ``feedback`` states (None: it states none), capped at ``policy``'s.

    For a bucket policy (a burst) the stated number is the bucket's size and the leak rate
    is taken to scale with it (Shopify: 40 leaking 2/s, Plus 400 leaking 20/s). For a
    window policy it is the count per stated interval, or per the catalog's period.
    """
    if not feedback.limit:
        return None
    catalog_rate = policy.limit / policy.period_seconds
    if policy.burst and policy.burst > 1:
        if feedback.limit >= policy.burst:
            return catalog(policy)
        scaled = policy.limit * feedback.limit / policy.burst
        return StatedLimit(round(scaled, 4), period_ms(policy), feedback.limit)
    interval = feedback.interval or policy.period_seconds
    if feedback.limit / interval >= catalog_rate:
        return catalog(policy)
    return StatedLimit(feedback.limit, math.ceil(interval * 1000))


def catalog(policy: RateLimitPolicy) -> StatedLimit:
    """The catalog's own limit: a provider stating as much (or more) confirms it."""
    burst = policy.burst if policy.burst and policy.burst > 1 else 0
    return StatedLimit(policy.limit, period_ms(policy), burst)
