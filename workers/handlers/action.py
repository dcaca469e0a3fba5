"""The ``action`` kind: run a named action for the job's provider.

Provider-specific actions register here as they land; ``noop`` is built in for every
provider because operators need a side-effect-free job to check a deployment end to end
and to measure raw throughput (``duration_ms`` simulates work, bounded).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field
from pydantic import ValidationError as PydanticValidationError

from workers.context import WorkerContext
from workers.envelope import ActionJob, JobEnvelope
from workers.errors import PermanentJobError, UnsupportedJobError

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


BUILTIN_ACTIONS: dict[str, ActionFn] = {"noop": noop}


def handle(job: JobEnvelope, context: WorkerContext) -> Mapping[str, Any]:
    """Run the job's action; unknown actions are refused permanently."""
    assert isinstance(job, ActionJob)
    action = BUILTIN_ACTIONS.get(job.payload.action)
    if action is None:
        raise UnsupportedJobError(
            f"no action {job.payload.action!r} for provider {job.provider!r} in this version"
        )
    return action(job, context)


def _validated(model: type[M], job: ActionJob) -> M:
    try:
        return model.model_validate(job.payload.input)
    except PydanticValidationError as exc:
        detail = "; ".join(
            f"payload.input.{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()
        )
        raise PermanentJobError(f"invalid input for {job.payload.action!r}: {detail}") from None
