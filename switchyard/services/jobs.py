"""Following jobs: show one, list an org's recent ones, cancel one.

``org_id`` scopes every call: an org key's calls pass its org and see only its jobs (another
org's job is *unknown*, not forbidden, so ids do not leak); admin calls pass None for show
and cancel. State lives in Redis for the retention window (:mod:`queueing.job_state`), under
the hash tag of the job's queue: a lookup by id probes the org's place in each queue (an
admin's, every queue's and shard's) in one pipelined round trip
(:meth:`~queueing.job_state.JobStateStore.locate`), so no id → place pointer is kept.
"""

from __future__ import annotations

from dataclasses import dataclass

from queueing.job_state import FINISHED, STATES, JobRef, JobStateStore, Listed, now_ms
from switchyard.services.errors import Conflict, InvalidInput, NotFound, field_error
from switchyard.services.job_views import JobView, job_view
from workers.lanes import Lanes

SCAN_BATCH = 200
SCAN_BATCHES = 5
"""A listing reads at most this many batches of ids before answering with a cursor."""
MAX_LIMIT = 200


class UnknownJobError(NotFound):
    """No such job within the caller's scope (or its state has expired)."""

    def __init__(self, job_id: str) -> None:
        super().__init__(f"unknown job {job_id[:64]!r} (or older than the state retention)")


class JobFinishedError(Conflict):
    """A cancel asked of a job that has already ended."""

    def __init__(self, job_id: str, state: str) -> None:
        super().__init__(f"job {job_id} already ended: {state}")
        self.state = state


@dataclass(frozen=True)
class JobFilter:
    """What ``jobs list`` narrows by; ``None`` means any."""

    state: str | None = None
    provider: str | None = None
    kind: str | None = None


@dataclass(frozen=True)
class JobPage:
    jobs: list[JobView]
    next_cursor: str | None


def get_job(store: JobStateStore, job_id: str, org_id: str | None) -> JobView:
    """One job's state, or :class:`UnknownJobError` (also for another org's job)."""
    return job_view(job_id, _owned(store, job_id, org_id)[1], now_ms())


def list_jobs(
    store: JobStateStore,
    org_id: str,
    where: JobFilter,
    *,
    limit: int = 50,
    cursor: str | None = None,
) -> JobPage:
    """The org's jobs, newest first; ``next_cursor`` continues (None at the end).
    :class:`InvalidInput` naming ``state`` or ``cursor`` when either is not one of ours."""
    check_filter(where)
    before, after_id = parse_cursor(cursor)
    found: list[JobView] = []
    now = now_ms()
    for _ in range(SCAN_BATCHES):
        ids = _after(store.recent_ids(org_id, before_ms=before, count=SCAN_BATCH), before, after_id)
        if not ids:
            return JobPage(found, None)
        for (job_id, at, _), raw in zip(ids, store.get_many(org_id, ids), strict=True):
            before, after_id = at, job_id
            if raw is not None and raw.get("org") == org_id:
                view = job_view(job_id, raw, now)
                if _matches(view, where):
                    found.append(view)
                    if len(found) == limit:
                        return JobPage(found, f"{at}.{job_id}")
    return JobPage(found, f"{before}.{after_id}")


def cancel_job(store: JobStateStore, lanes: Lanes, job_id: str, org_id: str | None) -> JobView:
    """Cancel a job: taken from its lane or waiting set it is ``cancelled`` and never runs;
    admitted already, it is marked (``cancel_requested``) and not retried. A finished job
    raises :class:`JobFinishedError`."""
    ref, raw = _owned(store, job_id, org_id)
    if raw.get("state") in FINISHED:
        raise JobFinishedError(job_id, raw["state"])
    remember_ms = store.retention_s * 1000
    taken = lanes.cancel(
        ref.queue, raw.get("entry", ""), job_id, org=ref.org, remember_ms=remember_ms
    )
    at = now_ms()
    if taken:
        store.update(ref, {"state": "cancelled", "cancel": 1, "finished_at": at, "updated_at": at})
    else:  # the worker writes how it ends; only the request is ours to record
        store.update(ref, {"cancel": 1})
    return get_job(store, job_id, org_id)


def parse_cursor(cursor: str | None) -> tuple[int | None, str | None]:
    """``<enqueue ms>.<job id>`` of the last job of the previous page; :class:`InvalidInput`
    naming ``cursor`` if bad."""
    if not cursor:
        return None, None
    at, _, job_id = cursor.partition(".")
    if not at.isdigit() or not job_id:
        raise field_error(InvalidInput, "cursor", "not a cursor this API returned")
    return int(at), job_id


def check_filter(where: JobFilter) -> None:
    """:class:`InvalidInput` naming ``state`` when it is not a job state."""
    if where.state is not None and where.state not in STATES:
        raise field_error(InvalidInput, "state", f"one of {', '.join(STATES)}")


def _owned(store: JobStateStore, job_id: str, org_id: str | None) -> tuple[JobRef, dict[str, str]]:
    found = store.locate(org_id, job_id) if len(job_id) <= 64 else None
    if found is None:
        raise UnknownJobError(job_id)
    return found


def _after(ids: list[Listed], before: int | None, after_id: str | None) -> list[Listed]:
    """Drop what the previous page already had: same time, id not below the cursor's (a
    reverse range returns equal scores in reverse id order)."""
    if before is None or after_id is None:
        return ids
    return [item for item in ids if item.at < before or item.job_id < after_id]


def _matches(view: JobView, where: JobFilter) -> bool:
    return (
        (where.state is None or view.state == where.state)
        and (where.provider is None or view.provider == where.provider)
        and (where.kind is None or view.kind == where.kind)
    )
