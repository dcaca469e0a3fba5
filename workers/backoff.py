"""Retry policy as a value (Temporal's habit): attempts, backoff bounds, Retry-After clamp.

Backoff is exponential with *full jitter* — a uniform draw in ``[0, min(max, base·2ⁿ)]`` —
which spreads a burst of failures out instead of retrying them in lockstep.
"""

from __future__ import annotations

import random
from dataclasses import asdict, dataclass, replace

from providers.spec import RetryOverride
from workers.envelope import Kind


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently a job is retried after transient errors."""

    max_attempts: int = 9
    min_backoff_ms: int = 1_000
    max_backoff_ms: int = 3_600_000
    max_retry_after_ms: int = 6 * 3_600_000

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if not 0 < self.min_backoff_ms <= self.max_backoff_ms:
            raise ValueError("need 0 < min_backoff_ms <= max_backoff_ms")

    def backoff_ms(self, attempt: int, rng: random.Random | None = None) -> int:
        """Delay before the attempt after ``attempt`` (1-based), full jitter."""
        ceiling = min(self.max_backoff_ms, self.min_backoff_ms * 2 ** max(0, attempt - 1))
        return int((rng or random).uniform(0, ceiling))

    def delay_ms(self, attempt: int, retry_after_s: float | None) -> int:
        """Backoff, but never sooner than the provider asked (clamped to a sane maximum)."""
        delay = self.backoff_ms(attempt)
        if retry_after_s is not None:
            delay = max(delay, min(int(retry_after_s * 1000), self.max_retry_after_ms))
        return delay


# Refreshes are cheap and urgent; syncs resume from checkpoints and can wait longer.
KIND_OVERRIDES: dict[Kind, dict[str, int]] = {
    Kind.REFRESH: {"max_attempts": 6},
    Kind.SYNC: {"max_attempts": 6},
}


def policy_for(kind: Kind, base: RetryPolicy, provider: RetryOverride | None = None) -> RetryPolicy:
    """The deployment's defaults, then the kind's overrides, then the provider's."""
    policy = replace(base, **KIND_OVERRIDES.get(kind, {}))
    if provider is None:
        return policy
    changes = {k: v for k, v in provider.model_dump().items() if v is not None}
    merged = {**asdict(policy), **changes}
    if merged["min_backoff_ms"] > merged["max_backoff_ms"]:  # one bound overridden past the other
        merged["max_backoff_ms"] = merged["min_backoff_ms"]
    return RetryPolicy(**merged)
