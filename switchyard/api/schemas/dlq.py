"""``/v1/dlq``: dead jobs, and the selection a replay or purge acts on."""

from __future__ import annotations

from pydantic import Field, StrictBool, StrictInt

from switchyard.api.schemas.common import Answer, Item, Page, RequestBody

_TEXT = Field(default=None, max_length=200)


class DeadJobFilter(RequestBody):
    """The CLI's filters; ``since``/``until`` are ISO 8601 or ``2h``, ``7d`` ago."""

    org: str | None = _TEXT
    provider: str | None = _TEXT
    kind: str | None = _TEXT
    error_class: str | None = _TEXT
    since: str | None = _TEXT
    until: str | None = _TEXT


class DeadJobSelection(RequestBody):
    """Which dead jobs: ``ids``, a ``filter``, or ``all: true`` (one of them), up to ``limit``."""

    ids: list[str] = Field(default_factory=list, examples=[["d41d8cd98f00b204e9800998ecf8427e"]])
    filter: DeadJobFilter | None = None
    limit: StrictInt | None = Field(default=None, ge=1)
    all: StrictBool = False


class DeadJob(Item):
    """A dead job: its envelope, error class, message, attempts and times."""


class DeadJobPage(Page[DeadJob]):
    """Dead jobs, most recently dead first; ``next_cursor`` is ``next_offset`` as text."""

    total: int
    limit: int
    offset: int
    next_offset: int | None


class ReplayedDeadJob(Answer):
    dead_job_id: str
    job_id: str


class RefusedDeadJob(Answer):
    dead_job_id: str
    reason: str


class DeadJobsReplayed(Answer):
    replayed: list[ReplayedDeadJob]
    refused: list[RefusedDeadJob]


class DeadJobsPurged(Answer):
    purged: list[str]
    count: int
