"""The ``sync`` kind: run one sync of a provider model (see :mod:`workers.sync`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from contract.envelope import JobEnvelope, SyncJob
from workers.context import WorkerContext
from workers.sync import SyncOptions, run_sync


def handle(job: JobEnvelope, context: WorkerContext) -> Mapping[str, Any]:
    """Run, resume or coalesce the job's sync; returns the outcome."""
    assert isinstance(job, SyncJob)
    outcome = run_sync(context, job, SyncOptions(lease_seconds=context.sync_lease_seconds))
    return {"status": outcome.status, "run_id": outcome.run_id, "pages": outcome.pages}
