"""``GET /v1/queues``: an org's backlog per queue."""

from __future__ import annotations

from pydantic import Field

from switchyard.api.schemas.common import Answer, Page


class QueueDepth(Answer):
    """One org's jobs on one queue, by state."""

    org_id: str
    queue: str = Field(examples=["action"])
    laned: int = Field(description="Due, waiting for admission in the org's lane.")
    waiting: int = Field(description="Not due yet: not_before, backoff or a rate-limit wait.")
    running: int = Field(description="Admitted: handed to a worker (or about to be).")
    oldest_due_age_seconds: float | None = Field(
        description="How long the org's next laned job has been due (null: none laned)."
    )


class QueueList(Page[QueueDepth]):
    """Every (org, queue) in scope; one page (``next_cursor`` is always null)."""

    complete: bool = Field(description="False when a huge waiting set was counted in part.")
