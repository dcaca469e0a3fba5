"""Stamps each job message with its attempt count and first-attempt time.

Dramatiq's own ``retries`` option counts retries *scheduled*, and is bumped before the
dead-letter middleware sees an exhausted job; an explicit attempt counter carried in the
message options (which survive retries) says plainly how many times a job ran.
"""

from __future__ import annotations

import dramatiq
from dramatiq.broker import MessageProxy
from dramatiq.common import current_millis
from dramatiq.middleware import Middleware

ATTEMPTS = "switchyard_attempts"
FIRST_ATTEMPT_MS = "switchyard_first_attempt_ms"


class AttemptClock(Middleware):
    """Counts attempts and remembers when the first one started."""

    def before_process_message(self, broker: dramatiq.Broker, message: MessageProxy) -> None:
        message.options[ATTEMPTS] = int(message.options.get(ATTEMPTS, 0)) + 1
        message.options.setdefault(FIRST_ATTEMPT_MS, current_millis())


def attempts_of(message: MessageProxy) -> int:
    """How many times this job has started, counting the current attempt."""
    return int(message.options.get(ATTEMPTS, 1))


def first_attempt_ms(message: MessageProxy) -> int | None:
    value = message.options.get(FIRST_ATTEMPT_MS)
    return int(value) if value is not None else None
