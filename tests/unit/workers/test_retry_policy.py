"""Retry policies: full-jitter backoff, Retry-After clamping, kind and provider overrides."""

from __future__ import annotations

import random

import pytest

from contract.envelope import Kind
from providers.spec import RetryOverride
from workers.retry_policy import RetryPolicy, policy_for


def test_backoff_is_full_jitter_under_a_growing_cap() -> None:
    """Draws stay within [0, min(max, base * 2^(n-1))] and spread across that range."""
    policy = RetryPolicy(min_backoff_ms=100, max_backoff_ms=1_000)
    rng = random.Random(3)
    for attempt, cap in [(1, 100), (2, 200), (3, 400), (4, 800), (5, 1_000), (9, 1_000)]:
        draws = [policy.backoff_ms(attempt, rng) for _ in range(300)]
        assert min(draws) >= 0 and max(draws) <= cap
        assert max(draws) > cap * 0.8 and min(draws) < cap * 0.2


def test_retry_after_wins_over_a_shorter_backoff_and_is_clamped() -> None:
    """The provider's Retry-After is a floor, clamped to the policy's maximum."""
    policy = RetryPolicy(min_backoff_ms=10, max_backoff_ms=20, max_retry_after_ms=5_000)
    assert policy.delay_ms(1, 2.5) == 2_500
    assert policy.delay_ms(1, 3_600) == 5_000
    assert policy.delay_ms(1, None) <= 10


@pytest.mark.parametrize("bad", [{"max_attempts": 0}, {"min_backoff_ms": 5, "max_backoff_ms": 1}])
def test_invalid_policies_are_refused(bad: dict[str, int]) -> None:
    """A policy with no attempts or inverted bounds is refused when declared."""
    with pytest.raises(ValueError):
        RetryPolicy(**bad)


def test_kind_then_provider_overrides_apply_in_order() -> None:
    """Sync gets its kind's attempts; a provider's own retry section overrides both."""
    base = RetryPolicy(max_attempts=9, min_backoff_ms=1_000, max_backoff_ms=60_000)
    assert policy_for(Kind.SYNC, base).max_attempts == 6
    assert policy_for(Kind.ACTION, base).max_attempts == 9
    slow = RetryOverride(max_attempts=3, min_backoff_ms=120_000)
    merged = policy_for(Kind.SYNC, base, slow)
    assert (merged.max_attempts, merged.min_backoff_ms, merged.max_backoff_ms) == (
        3,
        120_000,
        120_000,
    )


def test_catalog_retry_section_is_validated_and_overridable() -> None:
    """A provider's retry section loads from settings overrides and rejects inverted bounds."""
    from providers.errors import CatalogError
    from providers.registry import load_catalog

    catalog = load_catalog(overrides={"stripe": {"retry": {"max_attempts": 4}}})
    retry = catalog.get("stripe").retry
    assert retry is not None and retry.max_attempts == 4
    with pytest.raises(CatalogError, match="retry"):
        load_catalog(overrides={"stripe": {"retry": {"min_backoff_ms": 9, "max_backoff_ms": 1}}})
