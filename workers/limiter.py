"""The distributed rate limiter: GCRA in Redis, shared by every worker process.

One atomic script per admission decides, in order: is the key cooling down after the
provider said "wait"; is today's quota spent; is the concurrency cap reached; is there a GCRA
slot now — and if not, it *reserves* the next slot and says when, so a deferred job comes
back exactly once, at its slot. Clock: Redis ``TIME``, the same for every host.

Keys are ``{<namespace>:rl:<rate key>}:...`` — one hash tag per rate key — so the limiter can
move to a Redis Cluster of its own.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from importlib.resources import files

from redis import Redis

from providers.ratelimit_feedback import RateLimitFeedback
from providers.spec import ProviderSpec, RateLimitPolicy
from providers.templates import placeholders, render
from workers.accounts import AccountDirectory

MAX_RESERVE_MS = 15 * 60 * 1000
# Under a window guard a late reserved job cannot overrun the limit, so it may keep its
# slot a while: a slot lost is budget wasted and a second deferral.
GUARDED_LATENESS_MS = 2_000
_UNSAFE = re.compile(r"[{}\s]")


@dataclass(frozen=True)
class Decision:
    """Run now, or come back after ``delay_ms``; ``slot_ms`` is the slot held for it, if any
    (Redis time, ms), to be presented when it comes back."""

    run: bool
    delay_ms: int
    slot_ms: int

    @property
    def reserved(self) -> bool:
        return self.slot_ms > 0


def rate_key(
    policy: RateLimitPolicy, *, org_id: str, connection: str, account: Mapping[str, str]
) -> str:
    """The catalog's key template filled from the connection's account identifiers.

    ``{app}`` is this deployment's app (one per provider); ``{connection}`` the connection. A
    placeholder the connection does not provide falls back to ``org.connection``, which
    counts per connection: never looser than the provider's per-account limit.
    """
    fallback = f"{org_id}.{connection}"
    values = {name: account.get(name) or fallback for name in placeholders(policy.key)}
    values.update(app="app", connection=fallback)
    return _UNSAFE.sub("_", render(policy.key, values))


def rate_key_and_policy(
    spec: ProviderSpec, accounts: AccountDirectory, org_id: str, connection: str
) -> tuple[str, RateLimitPolicy]:
    """The key and policy a job of this connection is counted on (per-connection override
    included; a broken override never loosens the catalog's policy)."""
    info = accounts.lookup(org_id, spec.name, connection)
    try:
        policy = spec.rate_limit_with(info.rate_limit_override)
    except ValueError:
        policy = spec.rate_limit
    return rate_key(policy, org_id=org_id, connection=connection, account=info.account), policy


class Limiter:
    """Admission decisions and provider feedback for rate keys in one Redis."""

    def __init__(self, redis: Redis, namespace: str) -> None:
        self.redis = redis
        self.namespace = namespace
        scripts = files("workers").joinpath("lua")
        self._acquire = redis.register_script(scripts.joinpath("limiter_acquire.lua").read_text())
        self._cooldown = redis.register_script(scripts.joinpath("limiter_cooldown.lua").read_text())

    def prefix(self, key: str) -> str:
        return "{" + f"{self.namespace}:rl:{key}" + "}"

    def acquire(
        self,
        key: str,
        policy: RateLimitPolicy,
        *,
        job_id: str,
        slot_ms: int = 0,
        lease_ms: int = 600_000,
    ) -> Decision:
        """May this job call the provider now? Takes a slot (and a lease) when it may.

        Policies without a burst mean "at most ``limit`` per ``period``": a sliding-window
        log guards that exactly. With a burst, the policy is a leaky bucket (GCRA alone).
        """
        interval = math.ceil(policy.period_seconds * 1000 / policy.limit)
        burst = policy.burst or 1
        tolerance = interval * (burst - 1)
        window_limit = policy.limit if burst == 1 else 0
        verdict, delay, slot = self._acquire(
            keys=[self.prefix(key)],
            args=[
                interval,
                tolerance,
                policy.daily_quota or 0,
                policy.concurrency or 0,
                job_id,
                lease_ms,
                slot_ms,
                MAX_RESERVE_MS,
                math.ceil(policy.period_seconds * 1000),
                window_limit,
                max(interval, GUARDED_LATENESS_MS) if window_limit else interval,
            ],
        )
        return Decision(run=bool(verdict), delay_ms=int(delay), slot_ms=int(slot))

    def release(self, key: str, job_id: str) -> None:
        """Give back the job's concurrency lease (a no-op without a cap)."""
        self.redis.zrem(self.prefix(key) + ":leases", job_id)

    def cool_down(self, key: str, delay_ms: int) -> None:
        """Nobody runs on this key for ``delay_ms`` (a 429, or a budget reported spent)."""
        if delay_ms > 0:
            self._cooldown(keys=[self.prefix(key)], args=[int(delay_ms)])

    def apply_feedback(
        self, key: str, feedback: RateLimitFeedback, policy: RateLimitPolicy | None = None
    ) -> int:
        """Slow every worker down when a response says the budget is spent; returns ms.

        A spent budget without a reset time (HubSpot sends only the window length) waits
        one emission interval of ``policy``: the least a provider could need.
        """
        delay = 0.0
        if feedback.retry_after:
            delay = feedback.retry_after
        elif feedback.remaining == 0 and feedback.reset_after:
            delay = feedback.reset_after
        elif feedback.remaining == 0 and policy is not None:
            delay = policy.period_seconds / policy.limit
        elif feedback.daily_remaining == 0:
            seconds, _ = self.redis.time()
            delay = 86_400 - (int(seconds) % 86_400)
        delay_ms = int(delay * 1000)
        self.cool_down(key, delay_ms)
        return delay_ms
