"""``GET /v1/queues``: the backlog per queue of the caller's org (an admin key: every org's,
or one named by ``org_id``). The logic is :mod:`switchyard.services.queues`, shared with
``switchyard queues``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from switchyard.api.auth import CurrentPrincipal, CurrentRuntime
from switchyard.api.schemas.queues import QueueDepth, QueueList
from switchyard.api.scope import acting_org
from switchyard.services.queues import queue_backlog

router = APIRouter(prefix="/v1/queues", tags=["queues"])


@router.get("", operation_id="list_queues")
def list_queues(
    principal: CurrentPrincipal,
    runtime: CurrentRuntime,
    org_id: Annotated[str | None, Query(max_length=64)] = None,
) -> QueueList:
    """Depth per queue and state (laned, waiting, running) and the oldest due age."""
    org = None if principal.is_admin and org_id is None else acting_org(principal, runtime, org_id)
    backlog = queue_backlog(runtime.lanes, org)
    rows = [QueueDepth.model_validate(row, from_attributes=True) for row in backlog.queues]
    return QueueList(items=rows, complete=backlog.complete)
