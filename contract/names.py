"""Names producers and workers must agree on: a kind's Dramatiq queue and actor, and the
internal action route pipelines enqueue. A producer writes a job under these names and a
worker declares its actors with them, so they live here, not on either side.
"""

from __future__ import annotations

from contract.envelope import Kind

ROUTE_STEP = "route_step"
"""The internal action that runs one step of a route pipeline (enqueued by the pipeline,
its input checked by the step itself, never at the door)."""


def queue_for(kind: Kind) -> str:
    """The Dramatiq queue that carries a kind's jobs; operators scale workers per queue."""
    return kind.value


def actor_name(kind: Kind) -> str:
    """The Dramatiq actor name of a kind."""
    return f"run_{kind.value}"
