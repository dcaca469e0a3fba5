"""The ``action`` kind: run a named action for the job's provider.

Provider actions (``slack.post_message``, ``stripe.create_payment_intent``...) live in
:mod:`workers.actions`, looked up by (provider, name) and run at most once per job key
(:mod:`workers.actions.runner`); ``route_step`` runs one step of a route pipeline
(:mod:`workers.routing.pipeline`). Built in for every provider:
``proxy`` — one authenticated request (method, path, query, body) for anything not
modelled, with the same limiter, retries and dead-lettering as any job — and ``noop``,
a side-effect-free job to check a deployment end to end and to measure raw throughput
(``duration_ms`` simulates work, bounded).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field
from pydantic import ValidationError as PydanticValidationError

from contract.envelope import ActionJob, JobEnvelope
from contract.names import ROUTE_STEP
from workers.actions import action_for
from workers.actions.runner import run_once
from workers.context import WorkerContext
from workers.errors import PermanentJobError, UnsupportedJobError
from workers.provider_calls import call_provider
from workers.routing.pipeline import run_step

M = TypeVar("M", bound=BaseModel)
ActionFn = Callable[[ActionJob, WorkerContext], Mapping[str, Any]]


class NoopInput(BaseModel):
    """Input of the built-in ``noop`` action."""

    model_config = ConfigDict(extra="forbid")
    duration_ms: int = Field(default=0, ge=0, le=60_000)


def noop(job: ActionJob, context: WorkerContext) -> Mapping[str, Any]:
    """Do nothing (for ``duration_ms``): a probe and a throughput baseline."""
    params = _validated(NoopInput, job)
    if params.duration_ms:
        time.sleep(params.duration_ms / 1000)
    return {"ok": True}


class ProxyInput(BaseModel):
    """Input of the built-in ``proxy`` action: a path under the provider's base URL."""

    model_config = ConfigDict(extra="forbid")
    method: Literal["GET", "POST", "PUT", "PATCH", "DELETE"] = "GET"
    path: str = Field(pattern=r"^/[^\s]*$", max_length=2_000)
    query: dict[str, str] = Field(default_factory=dict)
    body: Any = None


def proxy(job: ActionJob, context: WorkerContext) -> Mapping[str, Any]:
    """Call the provider as asked; returns the status (the body is the caller's to fetch)."""
    params = _validated(ProxyInput, job)
    response = call_provider(
        context, job, params.method, params.path, params=params.query or None, json=params.body
    )
    return {"status": response.status_code}


class AnyInput(BaseModel):
    """Any input object: for built-ins that validate their input themselves."""

    model_config = ConfigDict(extra="allow")


BUILTIN_ACTIONS: dict[str, ActionFn] = {"noop": noop, "proxy": proxy}
BUILTIN_INPUTS: dict[str, type[BaseModel]] = {"noop": NoopInput, "proxy": ProxyInput}


def input_model(provider: str, name: str) -> type[BaseModel] | None:
    """The input model the worker validates action ``name`` of ``provider`` with, or None
    when this version has no such action: what producers check at the door too. A built-in
    without a declared input (one a deployment or test registers) checks its own."""
    if name in BUILTIN_ACTIONS:
        return BUILTIN_INPUTS.get(name, AnyInput)
    action = action_for(provider, name)
    return None if action is None else action.input


def handle(job: JobEnvelope, context: WorkerContext) -> Mapping[str, Any]:
    """Run the job's action; unknown actions are refused permanently."""
    assert isinstance(job, ActionJob)
    builtin = BUILTIN_ACTIONS.get(job.payload.action)
    if builtin is not None:
        return builtin(job, context)
    if job.payload.action == ROUTE_STEP:
        return run_step(job, context, job.payload.input)
    action = action_for(job.provider, job.payload.action)
    if action is None:
        raise UnsupportedJobError(
            f"no action {job.payload.action!r} for provider {job.provider!r} in this version"
        )
    params = _validated(action.input, job)
    return run_once(context, job, action, params, f"job:{job.idempotency_key or job.id}")


def _validated(model: type[M], job: ActionJob) -> M:
    try:
        return model.model_validate(job.payload.input)
    except PydanticValidationError as exc:
        detail = "; ".join(
            f"payload.input.{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()
        )
        raise PermanentJobError(f"invalid input for {job.payload.action!r}: {detail}") from None
