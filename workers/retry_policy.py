"""Retry policy as a value (Temporal's habit): attempts, backoff bounds, Retry-After clamp.

Backoff is exponential with *full jitter* — a uniform draw in ``[0, min(max, base·2ⁿ)]`` —
which spreads a burst of failures out instead of retrying them in lockstep. A policy may
instead carry an explicit ``schedule_ms`` (webhook deliveries: immediately, 5 s, 5 min,
30 min, 2 h, 5 h, 10 h, 10 h): entry *n* is the delay before attempt *n + 1*, varied by up
to ``jitter`` of itself, and the schedule's length is the number of attempts.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from typing import Any

from contract.envelope import Kind
from providers.spec import RetryOverride


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently a job is retried after transient errors."""

    max_attempts: int = 9
    min_backoff_ms: int = 1_000
    max_backoff_ms: int = 3_600_000
    max_retry_after_ms: int = 6 * 3_600_000
    schedule_ms: tuple[int, ...] = ()
    jitter: float = 0.0

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if not 0 < self.min_backoff_ms <= self.max_backoff_ms:
            raise ValueError("need 0 < min_backoff_ms <= max_backoff_ms")
        if any(delay < 0 for delay in self.schedule_ms) or not 0 <= self.jitter <= 1:
            raise ValueError("schedule delays must be >= 0 and jitter within [0, 1]")

    def backoff_ms(self, attempt: int, rng: random.Random | None = None) -> int:
        """Delay before the attempt after ``attempt`` (1-based): scheduled, or full jitter."""
        if self.schedule_ms:
            base = self.schedule_ms[min(attempt, len(self.schedule_ms) - 1)]
            spread = base * self.jitter
            return max(0, int(base + (rng or random).uniform(-spread, spread)))
        ceiling = min(self.max_backoff_ms, self.min_backoff_ms * 2 ** max(0, attempt - 1))
        return int((rng or random).uniform(0, ceiling))

    def delay_ms(self, attempt: int, retry_after_s: float | None) -> int:
        """Backoff, but never sooner than the provider asked (clamped to a sane maximum)."""
        delay = self.backoff_ms(attempt)
        if retry_after_s is not None:
            delay = max(delay, min(int(retry_after_s * 1000), self.max_retry_after_ms))
        return delay


def delivery_overrides(schedule_ms: Sequence[int], *, jitter: float) -> dict[str, Any]:
    """The policy fields of a fixed retry schedule (one attempt per entry)."""
    return {"schedule_ms": tuple(schedule_ms), "max_attempts": len(schedule_ms), "jitter": jitter}


# Refreshes are cheap and urgent; syncs resume from checkpoints and can wait longer.
# Webhook deliveries follow a fixed schedule from settings (``webhooks.retry_schedule_seconds``),
# added by the composition root with :func:`delivery_overrides`.
KIND_OVERRIDES: dict[Kind, dict[str, Any]] = {
    Kind.REFRESH: {"max_attempts": 6},
    Kind.SYNC: {"max_attempts": 6},
}


def policy_for(
    kind: Kind,
    base: RetryPolicy,
    provider: RetryOverride | None = None,
    kind_overrides: Mapping[Kind, Mapping[str, Any]] | None = None,
) -> RetryPolicy:
    """The deployment's defaults, then the kind's overrides, then the provider's."""
    overrides = KIND_OVERRIDES if kind_overrides is None else kind_overrides
    policy = replace(base, **overrides.get(kind, {}))
    if provider is None:
        return policy
    changes = {k: v for k, v in provider.model_dump().items() if v is not None}
    merged = {**asdict(policy), **changes}
    if merged["min_backoff_ms"] > merged["max_backoff_ms"]:  # one bound overridden past the other
        merged["max_backoff_ms"] = merged["min_backoff_ms"]
    return RetryPolicy(**merged)
