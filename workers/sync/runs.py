"""The transactions of a sync run: claim, commit a page, restart as full, fail.

Each one locks the (connection, model) state row first, so two workers can never both
believe they own a run: a claim finds a live lease held by another job and coalesces; a
page commit that finds the lease gone (it expired and another job took the run over)
raises :class:`LeaseLost` and writes nothing. The page's records, the run's counters and
the next checkpoint are one transaction; the last page also closes the run, marks unseen
records deleted (full runs) and stores the provider cursor for the next incremental run.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from storage.models import SyncState
from storage.repositories.connections import ConnectionRepository
from storage.repositories.records import PageCounts, RecordRepository, flush_commit_lazily
from storage.repositories.syncs import SyncRepository, lease_is_live
from storage.types import utcnow
from workers.errors import TransientJobError
from workers.sync.records import PageRows

ERROR_LIMIT = 2_000
"""Characters of a failed run's error kept in its history."""

Checkpoint = dict[str, Any]
"""``{"request": PageRequest, "cursor": largest updated-at so far, "token": sync token}``"""


class LeaseLost(Exception):
    """Another job took the run over (this one's lease had expired); stop quietly."""


class CheckpointMoved(TransientJobError):
    """The stored checkpoint is not the one this page was fetched from (the database lost
    recent commits, or another driver wrote): retry, resuming from the stored one."""

    error_class = "checkpoint_moved"


@dataclass(frozen=True)
class RunKey:
    """Which run: the org, connection, provider and model, and the job driving it."""

    org_id: str
    connection_id: str
    provider: str
    model: str
    job_id: str
    lease: timedelta


@dataclass
class Claim:
    """A run this job now drives: its id, mode, where to continue, the stored cursor."""

    run_id: str
    mode: str
    checkpoint: Checkpoint
    provider_cursor: str | None
    resumed: bool
    pages_done: int = 0  # pages the run committed before this claim (page numbers go on)


FirstCheckpoint = Callable[[str, str | None], Checkpoint]
"""(mode, provider cursor) -> the checkpoint of a run's first page."""


def claim(
    sessions: sessionmaker[Session], key: RunKey, wanted_mode: str, first: FirstCheckpoint
) -> Claim | None:
    """Start or resume the (connection, model) run; None when another job's run is live."""
    now = utcnow()
    with sessions.begin() as session:
        repo = SyncRepository(session, key.org_id)
        state = repo.state(key.connection_id, key.model, lock=True)
        if state.run_id is not None:
            if lease_is_live(state, now) and state.lease_owner != key.job_id:
                return None
            run = repo.run(state.run_id)
            run.resumes += 1
            run.job_id = key.job_id
            _renew(state, key, now)
            checkpoint = state.page_checkpoint or first(run.mode, state.provider_cursor)
            state.page_checkpoint = checkpoint
            return Claim(
                run.id, run.mode, checkpoint, state.provider_cursor, True, pages_done=run.pages
            )
        mode = wanted_mode if state.provider_cursor is not None else "full"
        run = repo.start_run(
            key.connection_id, provider=key.provider, model=key.model, mode=mode, job_id=key.job_id
        )
        checkpoint = first(mode, state.provider_cursor)
        state.run_id = run.id
        state.generation += 1
        state.page_checkpoint = checkpoint
        state.last_status = "running"
        _renew(state, key, now)
        return Claim(run.id, mode, checkpoint, state.provider_cursor, resumed=False)


def commit_page(
    sessions: sessionmaker[Session],
    key: RunKey,
    run_claim: Claim,
    page: PageRows,
    fetched_from: Checkpoint,
    following: Checkpoint | None,
    final_cursor: str | None,
) -> PageCounts:
    """Write a page and the next checkpoint (None: the run is done) in one transaction."""
    now = utcnow()
    with sessions.begin() as session:
        flush_commit_lazily(session)
        repo = SyncRepository(session, key.org_id)
        state = _owned_state(repo, key, run_claim)
        if state.page_checkpoint != fetched_from:
            raise CheckpointMoved(f"run {run_claim.run_id}: the stored checkpoint moved")
        counts = RecordRepository(session, key.org_id).upsert_page(
            key.connection_id,
            key.model,
            page.rows,
            run_id=run_claim.run_id,
            now=now,
            touch_unchanged=run_claim.mode == "full",
            deleted_ids=page.deleted_ids,
        )
        run = repo.run(run_claim.run_id)
        if following is None and run_claim.mode == "full":
            counts.deleted += RecordRepository(session, key.org_id).mark_unseen_deleted(
                key.connection_id, key.model, run_claim.run_id, now
            )
        run.added += counts.added
        run.updated += counts.updated
        run.unchanged += counts.unchanged
        run.deleted += counts.deleted
        run.pages += 1
        if following is not None:
            state.page_checkpoint = following
            _renew(state, key, now)
        else:
            state.provider_cursor = final_cursor
            _close(state, "succeeded", now)
            repo.finish_run(run, "succeeded")
            ConnectionRepository(session, key.org_id).mark_synced(key.connection_id, now)
    return counts


def restart_full(
    sessions: sessionmaker[Session], key: RunKey, run_claim: Claim, first: FirstCheckpoint
) -> Claim:
    """The provider refused our cursor (410 Gone): forget it, go on as a full run."""
    with sessions.begin() as session:
        repo = SyncRepository(session, key.org_id)
        state = _owned_state(repo, key, run_claim)
        run = repo.run(run_claim.run_id)
        run.mode = "full"
        state.provider_cursor = None
        state.page_checkpoint = first("full", None)
        _renew(state, key, utcnow())
        checkpoint = state.page_checkpoint
        return Claim(run.id, "full", checkpoint, None, run_claim.resumed, pages_done=run.pages)


def fail(sessions: sessionmaker[Session], key: RunKey, run_claim: Claim, error: str) -> None:
    """Close the run as failed with ``error``; records already stored stay as they were."""
    with sessions.begin() as session:
        repo = SyncRepository(session, key.org_id)
        state = repo.state(key.connection_id, key.model, lock=True)
        if state.run_id == run_claim.run_id:
            _close(state, "failed", utcnow())
        _finish_failed(repo, run_claim.run_id, error)


def abandon(sessions: sessionmaker[Session], org_id: str, job_id: str, error: str) -> list[str]:
    """Close as failed every run ``job_id`` still leases (it was dead-lettered mid-run).

    Left alone, such a run would stay "running" until its lease expired, and a new job for
    the same model — a replay from the DLQ included — would be coalesced into it and do
    nothing. Returns the models of the runs closed.
    """
    with sessions.begin() as session:
        repo = SyncRepository(session, org_id)
        states = repo.states_leased_by(job_id)
        for state in states:
            run_id = str(state.run_id)
            _close(state, "failed", utcnow())
            _finish_failed(repo, run_id, error)
        return [state.model for state in states]


def _finish_failed(repo: SyncRepository, run_id: str, error: str) -> None:
    repo.finish_run(repo.run(run_id), "failed", error=error[:ERROR_LIMIT])


def _owned_state(repo: SyncRepository, key: RunKey, run_claim: Claim) -> SyncState:
    state = repo.state(key.connection_id, key.model, lock=True)
    if state.run_id != run_claim.run_id or state.lease_owner != key.job_id:
        raise LeaseLost(f"run {run_claim.run_id} is now driven by job {state.lease_owner}")
    return state


def _renew(state: SyncState, key: RunKey, now: datetime) -> None:
    state.lease_owner = key.job_id
    state.lease_until = now + key.lease


def _close(state: SyncState, status: str, now: datetime) -> None:
    state.last_run_id = state.run_id
    state.run_id = None
    state.lease_owner = None
    state.lease_until = None
    state.page_checkpoint = None
    state.last_status = status
    if status == "succeeded":
        state.last_success_at = now
