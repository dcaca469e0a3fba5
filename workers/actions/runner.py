"""Running an action at most once per idempotency key.

The key (``route:{event}:{route}:{step}`` for route steps, ``job:{key or id}`` for direct
action jobs) is checked against the local record of succeeded calls first: a redelivered
job whose call already succeeded returns the stored output and calls nothing. Otherwise
the calls go out — each carrying the key in the provider's idempotency header where it
has one (Stripe ``Idempotency-Key``) — and the output is recorded.

The one window left is a worker killed after the provider answered and before the record
is committed: the provider's own idempotency covers it where it exists (Stripe, HubSpot's
upsert by email); elsewhere the call is repeated, as with any at-least-once system.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from contract.envelope import JobEnvelope
from contract.metrics import ACTION_CALLS
from storage.errors import ConflictError
from storage.repositories.routes import ActionRunRepository
from workers.actions.spec import Action, ActionEnv
from workers.context import WorkerContext
from workers.provider_calls import call_provider


@dataclass(frozen=True)
class StepRef:
    """Where a call sits in a route pipeline (all None for a direct action job)."""

    event_id: str | None = None
    route_id: str | None = None
    step: int | None = None


def run_once(
    context: WorkerContext,
    job: JobEnvelope,
    action: Action,
    params: BaseModel,
    key: str,
    ref: StepRef = StepRef(),
) -> dict[str, Any]:
    """The action's output: recorded if it already succeeded under ``key``, else performed."""
    done = recorded_output(context, job.org_id, key)
    if done is not None:
        ACTION_CALLS.labels(job.provider, action.name, "replayed").inc()
        return done
    output = perform(context, job, action, params, key)
    try:
        with context.sessions.begin() as session:
            ActionRunRepository(session, job.org_id).record(
                key,
                provider=job.provider,
                action=action.name,
                output=output,
                event_id=ref.event_id,
                route_id=ref.route_id,
                step=ref.step,
            )
    except ConflictError:
        pass  # a concurrent delivery recorded it first: the same outcome
    ACTION_CALLS.labels(job.provider, action.name, "performed").inc()
    return output


def recorded_output(context: WorkerContext, org_id: str, key: str) -> dict[str, Any] | None:
    """The stored output of a call that succeeded under ``key``, if any."""
    with context.sessions() as session:
        run = ActionRunRepository(session, org_id).get(key)
        return dict(run.output) if run is not None else None


def perform(
    context: WorkerContext, job: JobEnvelope, action: Action, params: BaseModel, key: str
) -> dict[str, Any]:
    """Send the action's calls in order and normalize the output."""
    env = ActionEnv(idempotency_key=key, options=context.action_options)
    calls = action.calls(params, env)
    responses = []
    for index, call in enumerate(calls):
        headers: Mapping[str, str] = dict(call.headers)
        if action.idempotency_header:
            suffix = f":{index}" if len(calls) > 1 else ""
            headers = {**headers, action.idempotency_header: key + suffix}
        responses.append(
            call_provider(
                context,
                job,
                call.method,
                call.path,
                params=call.params,
                json=call.json,
                data=call.data,
                headers=headers or None,
            )
        )
    return action.output(responses)
