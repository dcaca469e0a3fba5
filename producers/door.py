"""Validation at the door: what a worker would refuse is refused at enqueue instead.

The envelope checks structure; this checks the job against the declarations the worker runs
it with — the action registry and its typed inputs, and the sync model definitions
(:func:`providers.syncs.load_sync_models`) — so a job naming an unknown action or model, or
an input its action would refuse, answers 422 naming the field instead of being accepted and
dead-lettered later. The action registry is the worker's: it is handed in as an
:data:`InputModels` lookup (the runtime passes :func:`workers.handlers.action.input_model`),
so producers never import workers.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from pydantic import BaseModel
from pydantic import ValidationError as PydanticValidationError

from contract.envelope import ActionJob, FieldError, JobEnvelope, SyncJob
from contract.names import ROUTE_STEP
from providers.syncs import load_sync_models

InputModels = Callable[[str, str], type[BaseModel] | None]
"""``(provider, action) ->`` the input model the worker validates that action with, or None
when the worker has no such action."""


@dataclass(frozen=True)
class Door:
    """The door of one process: ``door(job)`` lists every problem the worker's declarations
    find with ``job`` (empty when none)."""

    input_model: InputModels

    def __call__(self, job: JobEnvelope) -> list[FieldError]:
        if isinstance(job, ActionJob):
            return self._action_errors(job)
        if isinstance(job, SyncJob):
            return _sync_errors(job)
        return []

    def _action_errors(self, job: ActionJob) -> list[FieldError]:
        name = job.payload.action
        if name == ROUTE_STEP:
            return []  # internal: enqueued by route pipelines, its input checked by the step
        model = self.input_model(job.provider, name)
        if model is None:
            message = f"unknown action {name!r} for provider {job.provider!r}"
            return [FieldError("payload.action", message)]
        try:
            model.model_validate(job.payload.input)
        except PydanticValidationError as exc:
            return [
                FieldError(".".join(["payload.input", *map(str, e["loc"])]), e["msg"])
                for e in exc.errors(include_url=False)
            ]
        return []


def _sync_errors(job: SyncJob) -> list[FieldError]:
    try:
        load_sync_models().get(job.provider, job.payload.model)
    except LookupError as exc:
        return [FieldError("payload.model", str(exc.args[0]))]
    return []
