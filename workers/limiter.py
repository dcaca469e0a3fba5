"""The distributed rate limiter: GCRA in Redis, shared by every worker process.

One atomic script per admission decides, in order: is the key cooling down after the
provider said "wait"; is today's quota spent; is the concurrency cap reached; is there a GCRA
slot now — and if not, it *reserves* the next slot and says when, so a deferred job comes
back exactly once, at its slot. Clock: Redis ``TIME``, the same for every host.

High-rate burst policies would pay one Redis round trip per job for slots that are almost
never scarce, so for them a process takes a few conforming cells at once and hands them out
locally for at most :data:`LOCAL_PERMIT_TTL_MS` (:class:`LocalPermits`). The cells are taken
within the burst tolerance, so the provider never sees more than its bucket allows; a
cooldown drops them. Policies with a quota, a cap or an exact window never batch.

Keys are ``{<namespace>:rl:<rate key>}:...`` — one hash tag per rate key — so the limiter can
move to a Redis Cluster of its own.
"""

from __future__ import annotations

import math
import re
import threading
import time
from collections.abc import Callable, Mapping
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
LOCAL_PERMIT_TTL_MS = 100
# The provider counts arrivals, not our admissions: a request admitted at the very end of
# the window may reach it a few ms after one admitted at its start. The window guard is this
# much longer than the period (0.5 %, at most 50 ms) so that send jitter never shows as "over".
WINDOW_MARGIN_MS = 50
MAX_LOCAL_PERMITS = 16


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


def window_ms(policy: RateLimitPolicy) -> int:
    """The sliding window an "N per period" policy is guarded over (period plus margin)."""
    period_ms = math.ceil(policy.period_seconds * 1000)
    return period_ms + min(WINDOW_MARGIN_MS, period_ms // 200)


def local_batch(policy: RateLimitPolicy) -> int:
    """How many cells a process may take at once on ``policy`` (1: no batching).

    Only burst policies without quota or cap; at most half the burst, and no more than the
    policy would grant in :data:`LOCAL_PERMIT_TTL_MS` anyway.
    """
    if policy.daily_quota or policy.concurrency or (policy.burst or 1) < 4:
        return 1
    per_ttl = math.floor(policy.limit * LOCAL_PERMIT_TTL_MS / (policy.period_seconds * 1000))
    return max(1, min((policy.burst or 1) // 2, MAX_LOCAL_PERMITS, per_ttl))


class LocalPermits:
    """Cells a process took ahead on a key, each usable until a deadline (thread-safe)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._held: dict[str, tuple[int, float]] = {}

    def take(self, key: str) -> bool:
        """Use one held cell of ``key`` if a fresh one is left."""
        with self._lock:
            count, deadline = self._held.get(key, (0, 0.0))
            if count <= 0 or self._clock() > deadline:
                self._held.pop(key, None)
                return False
            self._held[key] = (count - 1, deadline)
            return True

    def keep(self, key: str, count: int) -> None:
        """Hold ``count`` extra cells of ``key`` for :data:`LOCAL_PERMIT_TTL_MS`."""
        if count > 0:
            with self._lock:
                self._held[key] = (count, self._clock() + LOCAL_PERMIT_TTL_MS / 1000)

    def drop(self, key: str) -> None:
        with self._lock:
            self._held.pop(key, None)


class Limiter:
    """Admission decisions and provider feedback for rate keys in one Redis."""

    def __init__(self, redis: Redis, namespace: str) -> None:
        self.redis = redis
        self.namespace = namespace
        self.local = LocalPermits()
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
        batch = local_batch(policy) if slot_ms == 0 else 1
        if batch > 1 and self.local.take(key):
            return Decision(run=True, delay_ms=0, slot_ms=0)
        interval = math.ceil(policy.period_seconds * 1000 / policy.limit)
        burst = policy.burst or 1
        tolerance = interval * (burst - 1)
        window_limit = policy.limit if burst == 1 else 0
        verdict, delay, slot, *cells = self._acquire(
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
                window_ms(policy),
                window_limit,
                max(interval, GUARDED_LATENESS_MS) if window_limit else interval,
                batch,
            ],
        )
        if verdict and cells:
            self.local.keep(key, int(cells[0]) - 1)
        return Decision(run=bool(verdict), delay_ms=int(delay), slot_ms=int(slot))

    def release(self, key: str, job_id: str) -> None:
        """Give back the job's concurrency lease (a no-op without a cap)."""
        self.redis.zrem(self.prefix(key) + ":leases", job_id)

    def cool_down(self, key: str, delay_ms: int) -> None:
        """Nobody runs on this key for ``delay_ms`` (a 429, or a budget reported spent)."""
        if delay_ms > 0:
            self.local.drop(key)
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
