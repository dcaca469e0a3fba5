"""The rate-limit slot, taken at the moment of sending.

A provider request takes its slot immediately before it leaves — after the connection and
credential are loaded, decrypted, perhaps refreshed, and the client is built — so what the
provider counts is what the limiter granted, however long the preparation took (a first
request in a fresh worker spent up to 0.8 s there). Every request takes its own slot: a
sync's pages, a retry after a 401. The gate returns a callback the client calls once the
request is written (:class:`Written`): on a window key it stamps the send time into the
limiter's log, so even a thread descheduled between grant and write (hundreds of ms on a
loaded host) cannot let a later grant land in the same provider window.

No slot now: a wait up to :data:`MAX_INLINE_WAIT_MS` is slept through holding the reserved
slot; a longer one raises :class:`SlotDeferred`, and the job waits in Redis (no attempt
spent) holding its reservation (the :class:`Admission` the RateLimit middleware set up for
this attempt carries it across), back :data:`EARLY_RETURN_MS` early so it sends on time.
A limiter that cannot answer never waves a request through: :class:`LimiterUnavailable`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import suppress
from contextvars import ContextVar
from dataclasses import dataclass
from typing import NoReturn

from redis.exceptions import RedisError

from contract.metrics import LIMITER_GRANT_TO_SEND, LIMITER_UNAVAILABLE
from providers.spec import RateLimitPolicy
from workers.errors import LimiterUnavailable, QuotaDeferred, SlotDeferred
from workers.limiter import Limiter

MAX_INLINE_WAIT_MS = 1_000
EARLY_RETURN_MS = 300
MAX_INLINE_WAITS = 20
UNAVAILABLE_WAIT_S = 2.0


@dataclass
class Admission:
    """A job's standing with the limiter during one attempt: the slot it reserved on
    ``key`` in an earlier attempt (0: none), or that its admission could not reach Redis."""

    key: str
    job_id: str
    slot_ms: int = 0
    unreachable: bool = False


_admission: ContextVar[Admission | None] = ContextVar("switchyard_admission", default=None)


def begin_attempt(admission: Admission | None) -> None:
    """Set (or clear) the admission of the attempt this thread is running."""
    _admission.set(admission)


def current_admission() -> Admission | None:
    return _admission.get()


@dataclass
class SendGate:
    """Called by the provider client right before each send; returns when it may go."""

    limiter: Limiter
    key: str
    policy: RateLimitPolicy
    job_id: str
    provider: str
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.perf_counter

    def __call__(self) -> Written:
        admission = current_admission()
        if admission is not None and admission.key != self.key:
            admission = None  # a request on another key than the job was admitted on
        if admission is not None and admission.unreachable:
            self._unavailable()
        slot = admission.slot_ms if admission is not None else 0
        for _ in range(MAX_INLINE_WAITS):
            try:
                decision = self.limiter.acquire(
                    self.key, self.policy, job_id=self.job_id, slot_ms=slot
                )
            except RedisError:
                self._unavailable()
            slot = decision.slot_ms
            if admission is not None:
                admission.slot_ms = slot
            if decision.run:
                return Written(self, decision.entry, self.clock())
            if decision.quota:
                raise QuotaDeferred(
                    f"{self.provider}: the daily API allocation is spent or at its reserve",
                    retry_after=decision.delay_ms / 1000,
                )
            if decision.delay_ms > MAX_INLINE_WAIT_MS:
                break
            self.sleep(decision.delay_ms / 1000)
        wait_ms = max(decision.delay_ms - EARLY_RETURN_MS, 0) if slot else decision.delay_ms
        raise SlotDeferred(
            f"{self.provider}: no rate-limit slot for {decision.delay_ms} ms",
            retry_after=wait_ms / 1000,
        )

    def _unavailable(self) -> NoReturn:
        LIMITER_UNAVAILABLE.labels(self.provider).inc()
        raise LimiterUnavailable(
            f"{self.provider}: the rate limiter is unreachable; nothing was sent",
            retry_after=UNAVAILABLE_WAIT_S,
        ) from None


@dataclass
class Written:
    """Called by the client once the granted request is on the wire (again: a no-op)."""

    gate: SendGate
    entry: str
    granted: float
    done: bool = False

    def __call__(self) -> None:
        if self.done:
            return
        self.done = True
        gate = self.gate
        LIMITER_GRANT_TO_SEND.labels(gate.provider).observe(gate.clock() - self.granted)
        if not self.entry:
            return
        # Redis unreachable: the entry stays "in flight", and the guard keeps counting it.
        with suppress(RedisError):
            gate.limiter.stamp(gate.key, self.entry)
