"""The distributed rate limiter: GCRA in Redis, shared by every worker process.

One atomic script per request, run immediately before it is sent (:mod:`workers.send_gate`),
decides, in order: is the key cooling down after the provider said "wait"; is there a GCRA
slot now (within the window guard) — and if not, it *reserves* the next slot and says when,
so a deferred job comes back once, at its slot, in line; is today's quota spent, or is
the provider's daily allocation down to its reserve (see :mod:`workers.learned_limits`).
Concurrency caps are leases held by the whole job (:meth:`Limiter.lease`). Every answer
from the provider feeds back (:meth:`Limiter.apply_feedback`): pauses, stated limits and
429s adjust the pace of every worker. Clock: Redis ``TIME``, the same for every host.

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

from redis import Redis

from providers.ratelimit_feedback import RateLimitFeedback
from providers.spec import ProviderSpec, RateLimitPolicy
from providers.templates import placeholders, render
from queueing import keys, scripts
from workers.accounts import AccountDirectory
from workers.learned_limits import (
    DECREASE_FACTOR,
    LEARNED_TTL_MS,
    QUOTA_PROBE_MS,
    StatedLimit,
    daily_reserve,
    period_ms,
    stated_limit,
)

MAX_RESERVE_MS = 15 * 60 * 1000
# Under a window guard a late reserved job cannot overrun the limit, so it keeps its slot
# for this long, or one window if longer: a slot lost is budget wasted and a second
# deferral. A deferred job comes back through its org's lane, behind whatever is laned
# there: at a cold start with 1,500 jobs queued at once, the first ones returned ~2.5-3.3 s
# late, lost their slots, and left ~3 s of the budget unused.
GUARDED_LATENESS_MS = 2_000
_UNSAFE = re.compile(r"[{}\s]")
LOCAL_PERMIT_TTL_MS = 100
# The provider counts arrivals, not our grants. The window guard counts each request from
# the moment it was written (see SEND_DEADLINE_MS below), so what is left between our count
# and the provider's is the network and the provider's own reading. The window is this much
# longer than the period (at most 5 % of it; settings: workers.rate_limit_margin_ms) so that
# never shows as "over", and pacing uses the same window, so the guard does not refuse a
# job due on time: 100 per 10 s keeps 98.5 % of the budget.
WINDOW_MARGIN_MS = 150
MAX_LOCAL_PERMITS = 16
# A granted request on a window key counts from the moment it is written to the wire, not
# from its grant (:meth:`Limiter.stamp`): a thread descheduled between the two (measured:
# 336-623 ms at load 20 on 2 CPUs) would otherwise let the grant one window later land in
# the same provider window. Until stamped it counts as in flight; one never stamped (its
# worker died mid-send) is taken as sent this long after its grant.
SEND_DEADLINE_MS = 30_000


@dataclass(frozen=True)
class Decision:
    """Run now, or come back after ``delay_ms``; ``slot_ms`` is the slot held for it, if any
    (ms on the key's virtual clock: Redis time less the pauses since), to be presented when
    it comes back."""

    run: bool
    delay_ms: int
    slot_ms: int
    entry: str = ""  # the window-log entry to stamp when the request is written ("": none)
    quota: bool = False  # refused because a daily allocation is spent (or down to reserve)

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


def window_ms(policy: RateLimitPolicy, margin_ms: int = WINDOW_MARGIN_MS) -> int:
    """The sliding window an "N per period" policy is guarded over (period plus margin)."""
    period_ms = math.ceil(policy.period_seconds * 1000)
    return period_ms + min(margin_ms, period_ms // 20)


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


@dataclass(frozen=True)
class Learned:
    """What a response taught the limiter: the key's pause (ms, 0: none) and the limit it now
    paces at (None: the catalog's)."""

    pause_ms: int
    limit: float | None


def _daily_left(feedback: RateLimitFeedback | None) -> int:
    """What is left of the daily allocation the answer states (-1: it states none)."""
    if feedback is None or feedback.daily_remaining is None:
        return -1
    return feedback.daily_remaining


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


class Limiter:
    """Send-time decisions, concurrency leases and provider feedback for rate keys."""

    def __init__(
        self,
        redis: Redis,
        namespace: str,
        *,
        margin_ms: int = WINDOW_MARGIN_MS,
        quota_probe_ms: int = QUOTA_PROBE_MS,
        clock: Callable[[], int] | None = None,
    ) -> None:
        """``clock`` (ms) stands in for the Redis server's clock in every script: tests pass
        one to step time instead of sleeping. Production leaves it None: one clock for all
        workers, the server's."""
        self.redis = redis
        self.clock = clock
        self.namespace = namespace
        self.margin_ms = margin_ms
        self.quota_probe_ms = quota_probe_ms
        self.local = LocalPermits()
        self._acquire = scripts.register(redis, "limiter_acquire.lua")
        self._lease = scripts.register(redis, "limiter_lease.lua")
        self._feedback = scripts.register(redis, "limiter_feedback.lua")
        self._stamp = scripts.register(redis, "limiter_stamp.lua")

    def prefix(self, key: str) -> str:
        return keys.rate_key_tag(self.namespace, key)

    def now_arg(self) -> int:
        """The scripts' optional ``now`` argument: 0 means "the server's clock"."""
        return self.clock() if self.clock is not None else 0

    def acquire(
        self, key: str, policy: RateLimitPolicy, *, job_id: str, slot_ms: int = 0
    ) -> Decision:
        """May this job send one request now? Takes the slot when it may, else reserves one.

        Policies without a burst mean "at most ``limit`` per ``period``": a sliding-window
        log guards that exactly. With a burst, the policy is a leaky bucket (GCRA alone).
        A limit learned from the provider (see :meth:`apply_feedback`) replaces the
        catalog's inside the script.
        """
        batch = local_batch(policy) if slot_ms == 0 else 1
        if batch > 1 and self.local.take(key):
            return Decision(run=True, delay_ms=0, slot_ms=0)
        verdict, delay, slot, cells, entry, quota = self._acquire(
            keys=[self.prefix(key)],
            args=[
                policy.limit,
                math.ceil(policy.period_seconds * 1000),
                policy.burst or 1,
                window_ms(policy, self.margin_ms) - math.ceil(policy.period_seconds * 1000),
                policy.daily_quota or 0,
                job_id,
                slot_ms,
                MAX_RESERVE_MS,
                GUARDED_LATENESS_MS,
                batch,
                SEND_DEADLINE_MS,
                self.quota_probe_ms,
                self.now_arg(),
            ],
        )
        if not verdict:
            quota_spent = bool(int(quota))
            return Decision(run=False, delay_ms=int(delay), slot_ms=int(slot), quota=quota_spent)
        self.local.keep(key, int(cells) - 1)
        return Decision(run=True, delay_ms=0, slot_ms=0, entry=_text(entry))

    def stamp(self, key: str, entry: str) -> int:
        """The granted request ``entry`` was just written: the window guard counts it from
        now. Returns the ms since its grant (-1: the entry is gone)."""
        return int(self._stamp(keys=[self.prefix(key)], args=[entry, self.now_arg()]))

    def lease(self, key: str, policy: RateLimitPolicy, *, job_id: str, lease_ms: int) -> Decision:
        """Hold one of the key's ``policy.concurrency`` leases for the job (no cap: always)."""
        if not policy.concurrency:
            return Decision(run=True, delay_ms=0, slot_ms=0)
        held, delay = self._lease(
            keys=[self.prefix(key)], args=[policy.concurrency, job_id, lease_ms, self.now_arg()]
        )
        return Decision(run=bool(held), delay_ms=int(delay), slot_ms=0)

    def release(self, key: str, job_id: str) -> None:
        """Give back the job's concurrency lease (a no-op without a cap)."""
        self.redis.zrem(self.prefix(key) + ":leases", job_id)

    def cool_down(self, key: str, delay_ms: int, *, shift: bool = True) -> None:
        """Nobody sends on this key for ``delay_ms`` (a 429, or a budget reported spent).

        With ``shift`` the pause moves every reservation with it, so the jobs waiting on
        the key resume one interval apart after it, in their order, not all at once.
        """
        if delay_ms > 0:
            self.local.drop(key)
            self._learn(key, None, int(delay_ms), shift=shift)

    def apply_feedback(
        self,
        key: str,
        feedback: RateLimitFeedback,
        policy: RateLimitPolicy,
        *,
        throttled: bool = False,
    ) -> Learned:
        """Slow every worker down when a response says the budget is spent, adopt the limit
        it states, and cut the rate on a 429 (``throttled``) that states none.

        A spent budget without a reset time (HubSpot sends only the window length) waits
        one emission interval of ``policy``: the least a provider could need.
        """
        delay = 0.0
        if feedback.retry_after:
            delay = feedback.retry_after
        elif feedback.remaining == 0 and feedback.reset_after:
            delay = feedback.reset_after
        elif feedback.remaining == 0:
            delay = policy.period_seconds / policy.limit
        stated = stated_limit(feedback, policy)
        cut = throttled and stated is None
        # Only a pause the provider asked for moves the reservations; one interval after a
        # spent budget is what pacing does anyway.
        shift = bool(feedback.retry_after or feedback.reset_after or throttled)
        daily = feedback.daily_remaining is not None
        if delay <= 0 and stated is None and not cut and not daily:
            return Learned(0, None)  # nothing to tell: no round trip
        if delay > 0 or feedback.daily_remaining == 0:
            self.local.drop(key)
        return self._learn(
            key, policy, int(delay * 1000), shift=shift, stated=stated, cut=cut, daily=feedback
        )

    def _learn(
        self,
        key: str,
        policy: RateLimitPolicy | None,
        delay_ms: int,
        *,
        shift: bool,
        stated: StatedLimit | None = None,
        cut: bool = False,
        daily: RateLimitFeedback | None = None,
    ) -> Learned:
        if policy is None and delay_ms <= 0:
            return Learned(0, None)
        catalog_limit = policy.limit if policy else 1
        pause, learned = self._feedback(
            keys=[self.prefix(key)],
            args=[
                delay_ms,
                int(shift),
                stated.limit if stated else 0,
                stated.period_ms if stated else 0,
                stated.burst if stated else 0,
                int(cut),
                catalog_limit,
                period_ms(policy) if policy else 0,
                (policy.burst or 0) if policy else 0,
                DECREASE_FACTOR,
                LEARNED_TTL_MS,
                _daily_left(daily),
                daily_reserve(daily) if daily else 0,
                self.quota_probe_ms,
                self.now_arg(),
            ],
        )
        limit = int(learned) / 1000 if int(learned) else None
        return Learned(int(pause), limit)
