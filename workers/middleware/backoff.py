"""What happens after an attempt raised: retry with backoff, defer, or dead-letter.

Replaces Dramatiq's ``Retries``: waiting happens in Redis (the lanes' waiting set), never
in a worker's memory, and provider errors decide the verdict (:func:`verdict_for`). A rate
limited job cools its key down for every worker and is deferred without spending an attempt.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import dramatiq
from dramatiq.broker import MessageProxy
from dramatiq.middleware import Middleware

from providers.errors import RateLimited
from workers.backoff import RetryPolicy
from workers.envelope import Kind
from workers.errors import Verdict, retry_after_of, verdict_for
from workers.lanes import Lanes
from workers.limiter import Limiter
from workers.middleware.attempts import ATTEMPTS, attempts_of
from workers.middleware.rate_limit import rate_key_of
from workers.scheduling import reschedule

DEFAULT_RATE_LIMITED_WAIT_MS = 1_000
KIND_VALUES = frozenset(kind.value for kind in Kind)


class Backoff(Middleware):
    """Reschedules failed attempts or marks them failed for the dead-letter middleware."""

    def __init__(
        self, lanes: Lanes, limiter: Limiter, policy_for: Callable[[Kind, str], RetryPolicy]
    ) -> None:
        self.lanes = lanes
        self.limiter = limiter
        self.policy_for = policy_for

    @property
    def actor_options(self) -> set[str]:
        # ``throws`` marks expected exceptions: Dramatiq then logs them without a traceback.
        return {"throws"}

    def after_process_message(
        self,
        broker: dramatiq.Broker,
        message: MessageProxy,
        *,
        result: Any = None,
        exception: BaseException | None = None,
    ) -> None:
        if exception is None:
            return
        verdict = verdict_for(exception)
        if verdict is Verdict.DEAD:
            message.fail()
        elif verdict is Verdict.DEFER:
            self._defer(message, exception)
        else:
            self._retry(message, exception)

    def _defer(self, message: MessageProxy, exception: BaseException) -> None:
        wait_s = retry_after_of(exception)
        delay_ms = int(wait_s * 1000) if wait_s else DEFAULT_RATE_LIMITED_WAIT_MS
        key = rate_key_of(message)
        if key is not None and isinstance(exception, RateLimited):
            # The provider said wait: pause the key for everyone. Our own deferrals (no
            # slot yet, limiter unreachable) must not pause the jobs in line before them.
            self.limiter.cool_down(key, delay_ms)
        message.options[ATTEMPTS] = attempts_of(message) - 1  # a deferral is not an attempt
        reschedule(self.lanes, message, delay_ms, "deferred")

    def _retry(self, message: MessageProxy, exception: BaseException) -> None:
        data = message.args[0] if message.args and isinstance(message.args[0], dict) else {}
        kind = str(data.get("kind"))
        kind_ = Kind(kind) if kind in KIND_VALUES else Kind.ACTION
        policy = self.policy_for(kind_, str(data.get("provider")))
        attempt = attempts_of(message)
        if attempt >= policy.max_attempts:
            message.fail()
            return
        reschedule(
            self.lanes, message, policy.delay_ms(attempt, retry_after_of(exception)), "retried"
        )
