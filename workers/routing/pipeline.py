"""Route pipelines: one ``action`` job per step, each step's output kept for the next.

An event matching a route enqueues the job of step 0 (see :mod:`producers.route_fanout`). Each
step job renders its input from the event and the outputs of the steps before it (read
from the ``action_runs`` table, not carried in the payload), runs its action at most once
per ``(event, route, step)`` and, when it succeeded, enqueues the next step under an
idempotency key of its own. A failing step retries, defers or dead-letters alone; the
steps before it are never repeated, because their outputs are on record.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from pydantic import ValidationError as PydanticValidationError

from contract.envelope import ActionJob
from contract.metrics import ROUTE_STEPS
from routes.matching import event_context, event_view, step_job, step_job_key
from routes.templates import TemplateError, render_value
from storage.errors import NotFoundError
from storage.repositories.events import EventRepository
from storage.repositories.routes import ActionRunRepository, RouteRepository
from workers.actions import Action, action_for
from workers.actions.runner import StepRef, run_once
from workers.context import WorkerContext
from workers.errors import PermanentJobError


class StepInput(BaseModel):
    """The payload input of a route step job: references only, never data."""

    model_config = ConfigDict(extra="forbid")
    event_id: str = Field(min_length=1, max_length=64)
    route_id: str = Field(min_length=1, max_length=64)
    step: int = Field(ge=0, lt=100)


def step_key(event_id: str, route_id: str, step: int) -> str:
    """The idempotency key of one step's action call (local record and provider header)."""
    return f"route:{event_id}:{route_id}:{step}"


def run_step(job: ActionJob, context: WorkerContext, raw: Mapping[str, Any]) -> dict[str, Any]:
    """Run one step of a route pipeline and enqueue the next; see the module docstring."""
    ref = _step_input(raw)
    steps, event, outputs = _load(context, job.org_id, ref)
    if ref.step >= len(steps):
        raise PermanentJobError(f"route {ref.route_id} has no step {ref.step} (it was changed)")
    step = steps[ref.step]
    action = _action(step)
    named = {str(i): out for i, out in outputs.items()}
    named |= {s["name"]: outputs[i] for i, s in enumerate(steps) if s.get("name") and i in outputs}
    params = render_input(action, step.get("input", {}), event_context(event, named))
    key = step_key(ref.event_id, ref.route_id, ref.step)
    output = run_once(
        context, job, action, params, key, StepRef(ref.event_id, ref.route_id, ref.step)
    )
    last = ref.step + 1 == len(steps)
    if not last:
        _enqueue_next(context, job, ref, steps[ref.step + 1])
    ROUTE_STEPS.labels(job.provider, action.name, "last" if last else "succeeded").inc()
    return output


def render_input(
    action: Action, mapping: Mapping[str, Any], context: Mapping[str, Any]
) -> BaseModel:
    """The action's input rendered from the mapping and validated, or a permanent error
    naming the field (the event does not fit the mapping: retrying cannot help)."""
    try:
        rendered = {field: render_value(value, context) for field, value in mapping.items()}
    except TemplateError as exc:
        raise PermanentJobError(f"mapping failed: {exc}") from None
    rendered = {k: v for k, v in rendered.items() if v is not None}
    try:
        return action.input.model_validate(rendered)
    except PydanticValidationError as exc:
        detail = "; ".join(
            f"input.{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()
        )
        raise PermanentJobError(f"{action.provider}.{action.name}: {detail}") from None


def _step_input(raw: Mapping[str, Any]) -> StepInput:
    try:
        return StepInput.model_validate(raw)
    except PydanticValidationError as exc:
        detail = "; ".join(
            f"payload.input.{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()
        )
        raise PermanentJobError(f"invalid route step: {detail}") from None


def _load(
    context: WorkerContext, org_id: str, ref: StepInput
) -> tuple[list[dict[str, Any]], dict[str, Any], dict[int, dict[str, Any]]]:
    with context.sessions() as session:
        try:
            route = RouteRepository(session, org_id).get(ref.route_id)
            event = EventRepository(session, org_id).get(ref.event_id)
        except NotFoundError as exc:
            raise PermanentJobError(f"route step cannot run: {exc}") from None
        outputs = ActionRunRepository(session, org_id).pipeline_outputs(event.id, route.id)
        return [dict(s) for s in route.steps], event_view(event), outputs


def _action(step: Mapping[str, Any]) -> Action:
    action = action_for(str(step.get("provider")), str(step.get("action")))
    if action is None:
        raise PermanentJobError(f"no action {step.get('action')!r} for {step.get('provider')!r}")
    return action


def _enqueue_next(
    context: WorkerContext, job: ActionJob, ref: StepInput, nxt: Mapping[str, Any]
) -> None:
    if context.jobs is None:
        raise RuntimeError("no job sink in the worker context: cannot continue the pipeline")
    data = step_job(job.org_id, ref.event_id, ref.route_id, ref.step + 1, nxt)
    data["idempotency_key"] = step_job_key(ref.event_id, ref.route_id, ref.step + 1)
    data["correlation_id"] = job.correlation_id or ref.event_id
    context.jobs.enqueue(data)
