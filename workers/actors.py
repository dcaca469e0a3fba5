"""Thin actors: one per job kind, each parsing the envelope and calling its handler."""

from __future__ import annotations

from typing import Any

import dramatiq

from contract.envelope import InvalidJobError, Kind, load_envelope
from contract.names import actor_name, queue_for
from providers.errors import ProviderError
from queueing.job_state import record_result
from workers.context import current_context
from workers.errors import JobError
from workers.handlers import handler_for

EXPECTED = (JobError, InvalidJobError, ProviderError)


def execute(job: dict[str, Any]) -> None:
    """Validate the job again at the worker and run its handler.

    Returns None on purpose: outcomes are recorded by handlers and middleware, and Dramatiq
    warns on every message whose actor returns a value without a results backend.
    """
    context = current_context()
    envelope = load_envelope(job, providers=context.providers)
    record_result(handler_for(envelope.kind)(envelope, context))


def declare_actors(
    broker: dramatiq.Broker, *, time_limit_ms: int
) -> dict[Kind, dramatiq.Actor[..., Any]]:
    """Declare one actor per kind on ``broker`` (retries are the Backoff middleware's job)."""
    return {
        kind: dramatiq.actor(
            actor_name=actor_name(kind),
            queue_name=queue_for(kind),
            broker=broker,
            time_limit=time_limit_ms,
            # Expected failures: Dramatiq logs them in one line, our OutcomeLog says the rest.
            throws=EXPECTED,
        )(execute)
        for kind in Kind
    }
