"""What happens after an attempt raised: retry with backoff, defer, or dead-letter.

Replaces Dramatiq's ``Retries``: waiting happens in Redis (the lanes' waiting set), never
in a worker's memory, and provider errors decide the verdict (:func:`verdict_for`). A rate
limited job cools its key down for every worker and is deferred without spending an attempt.
A job that met an outage of our own Redis or PostgreSQL waits a few seconds, also without
spending an attempt; when the wait cannot be written (Redis itself is down) the message is
handed back to its queue instead of acknowledged (:func:`workers.scheduling.hand_back`), so
it runs again once Redis answers. A message that is not a job envelope can be neither
retried nor deferred: it is dead-lettered at once.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from typing import Any

import dramatiq
from dramatiq.broker import MessageProxy
from dramatiq.middleware import Middleware
from redis.exceptions import RedisError

from contract.envelope import Kind
from providers.errors import RateLimited
from workers.errors import Verdict, retry_after_of, verdict_for
from workers.lanes import Lanes
from workers.limiter import Limiter
from workers.middleware.attempts import ATTEMPTS, attempts_of
from workers.middleware.rate_limit import RESERVED, rate_key_of
from workers.retry_policy import RetryPolicy
from workers.scheduling import hand_back, reschedule

logger = logging.getLogger("switchyard.backoff")
DEFAULT_RATE_LIMITED_WAIT_MS = 1_000
OUTAGE_WAIT_MS = (2_000, 8_000)
"""How long a job that met an infrastructure outage waits (uniform: no thundering herd)."""
KIND_VALUES = frozenset(kind.value for kind in Kind)
SLOT_HOLDER_PRIORITY = 9
"""Lane position of a job deferred holding a rate-limit slot: it must be back by then, and
behind its org's backlog (1,500 jobs queued at once) it came back seconds late, losing the
slot and leaving that budget unused. The job's own priority is unchanged."""


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
        if verdict is Verdict.DEAD or not _is_envelope(message):
            message.fail()
            return
        try:
            if verdict is Verdict.DEFER:
                self._defer(message, exception)
            elif verdict is Verdict.WAIT:
                message.options[ATTEMPTS] = attempts_of(message) - 1  # not the job's fault
                reschedule(self.lanes, message, random.randint(*OUTAGE_WAIT_MS), "deferred")
            else:
                self._retry(message, exception)
        except RedisError as exc:
            logger.warning("cannot reschedule job %s (%s); handed back", message.message_id, exc)
            hand_back(message)

    def _defer(self, message: MessageProxy, exception: BaseException) -> None:
        wait_s = retry_after_of(exception)
        delay_ms = int(wait_s * 1000) if wait_s else DEFAULT_RATE_LIMITED_WAIT_MS
        key = rate_key_of(message)
        if key is not None and isinstance(exception, RateLimited):
            # The provider said wait: pause the key for everyone. Our own deferrals (no
            # slot yet, limiter unreachable) must not pause the jobs in line before them.
            self.limiter.cool_down(key, delay_ms)
        message.options[ATTEMPTS] = attempts_of(message) - 1  # a deferral is not an attempt
        holds_slot = bool(message.options.get(RESERVED))
        priority = SLOT_HOLDER_PRIORITY if holds_slot else None
        reschedule(self.lanes, message, delay_ms, "deferred", priority=priority)

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


def _is_envelope(message: MessageProxy) -> bool:
    """Only a job envelope (one dict naming its org) can go back to a lane."""
    args = message.args
    return len(args) == 1 and isinstance(args[0], dict) and bool(args[0].get("org_id"))
