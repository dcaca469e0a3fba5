"""Which limit a provider's answer states, as the limiter adopts it."""

from __future__ import annotations

from providers.ratelimit_feedback import RateLimitFeedback
from providers.spec import RateLimitPolicy
from workers.learned_limits import StatedLimit, stated_limit

WINDOW = RateLimitPolicy(limit=100, period_seconds=10, key="k")
BUCKET = RateLimitPolicy(limit=2, period_seconds=1, burst=40, key="k")


def test_nothing_stated_means_nothing_adopted() -> None:
    """A response without a limit (or with only remaining) states no limit."""
    assert stated_limit(RateLimitFeedback(remaining=3), WINDOW) is None


def test_a_tighter_window_limit_is_adopted_with_its_interval() -> None:
    """HubSpot's 50 per 10 000 ms against a catalog of 100 per 10 s: 50 per 10 s."""
    feedback = RateLimitFeedback(limit=50, interval=10.0)
    assert stated_limit(feedback, WINDOW) == StatedLimit(50, 10_000)


def test_a_limit_without_interval_counts_over_the_catalog_period() -> None:
    """X-RateLimit-Limit: 40 with a 10 s catalog period: 40 per 10 s."""
    assert stated_limit(RateLimitFeedback(limit=40), WINDOW) == StatedLimit(40, 10_000)


def test_a_looser_statement_confirms_the_catalog() -> None:
    """600 per 10 s stated against 100 per 10 s: the catalog's own limit stands."""
    assert stated_limit(RateLimitFeedback(limit=600), WINDOW) == StatedLimit(100, 10_000)


def test_tighter_is_judged_by_rate_not_by_count() -> None:
    """5,000 per hour is a larger count but a slower rate than 100 per 10 s: adopted."""
    feedback = RateLimitFeedback(limit=5000, interval=3600.0)
    assert stated_limit(feedback, WINDOW) == StatedLimit(5000, 3_600_000)


def test_a_smaller_bucket_scales_its_leak_rate() -> None:
    """Shopify 20/40: a bucket of 20 leaking 1 per second; 40/40 confirms the catalog."""
    assert stated_limit(RateLimitFeedback(limit=20), BUCKET) == StatedLimit(1, 1000, 20)
    assert stated_limit(RateLimitFeedback(limit=40), BUCKET) == StatedLimit(2, 1000, 40)
