"""One sync run, page by page: fetch through the limiter, validate, commit with checkpoint.

Memory stays flat in the number of records: one page is held at a time, and delete
detection is a single UPDATE at the end (records not stamped by this run), not a set of
ids in RAM. Every page request goes through :func:`workers.provider_calls.call_provider`,
so it uses the connection's credential, takes its own rate-limit slot as it is sent, and
feeds the shared rate limiter.

Outcomes: ``succeeded``; ``coalesced`` (another job's run of the same connection and model
is live — this trigger joins it instead of running twice); ``failed`` (a permanent error:
the run is closed with the error, prior records untouched, and the job is dead-lettered
with the same reason). Transient errors and rate limits leave the run open: the retried
or deferred job resumes it at the checkpoint.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from contract.envelope import SyncJob
from contract.metrics import SYNC_RECORDS, SYNC_RUNS
from providers.errors import PermanentError
from providers.json_path import dig
from providers.pagination import first_request, next_request
from providers.spec_pagination import PaginationSpec
from providers.syncs.search import next_search_request, search_request
from providers.syncs.spec import SyncModelSpec, load_sync_models
from providers.templates import fill_path
from workers.context import WorkerContext
from workers.errors import PermanentJobError, UnsupportedJobError
from workers.provider_calls import call_provider, usable_connection
from workers.sync import runs
from workers.sync.records import items_of, rows_of

logger = logging.getLogger("switchyard.syncs")


@dataclass(frozen=True)
class SyncOptions:
    """Tunables from ``settings.syncs``: how long a run's lease lasts without a page."""

    lease_seconds: int


@dataclass(frozen=True)
class SyncOutcome:
    """What a sync job did."""

    status: str  # succeeded | coalesced
    run_id: str | None = None
    pages: int = 0


def run_sync(context: WorkerContext, job: SyncJob, options: SyncOptions) -> SyncOutcome:
    """Run (or resume, or coalesce into) the sync the job asks for."""
    spec = _definition(job)
    connection_id, config, account = _connection(context, job)
    walk = _Walk(context, job, spec, config, account)
    key = runs.RunKey(
        job.org_id,
        connection_id,
        spec.provider,
        spec.model,
        job.id,
        timedelta(seconds=options.lease_seconds),
    )
    claim = runs.claim(context.sessions, key, job.payload.mode, walk.first_checkpoint)
    if claim is None:
        SYNC_RUNS.labels(spec.provider, spec.model, "coalesced").inc()
        logger.info("sync coalesced %s %s job=%s", spec.provider, spec.model, job.id)
        return SyncOutcome("coalesced")
    try:
        pages = walk.run(key, claim)
    except runs.LeaseLost as exc:
        logger.warning("sync lease lost %s %s: %s", spec.provider, spec.model, exc)
        return SyncOutcome("coalesced", claim.run_id)
    except (PermanentJobError, PermanentError) as exc:
        runs.fail(context.sessions, key, claim, str(exc))
        SYNC_RUNS.labels(spec.provider, spec.model, "failed").inc()
        raise
    SYNC_RUNS.labels(spec.provider, spec.model, "succeeded").inc()
    return SyncOutcome("succeeded", claim.run_id, pages)


class _Walk:
    """The page loop of one run."""

    def __init__(
        self,
        context: WorkerContext,
        job: SyncJob,
        spec: SyncModelSpec,
        config: dict[str, Any],
        account: dict[str, str],
    ) -> None:
        self.context = context
        self.job = job
        self.spec = spec
        self.provider = context.catalog.get(spec.provider)
        self.pagination: PaginationSpec = spec.pagination or self.provider.pagination
        self.items_path = (
            spec.items_path
            if spec.items_path is not None
            else getattr(self.pagination, "items_path", "")
        )
        self.config = config
        self.path = _with_config(spec.path, config)
        self.base_url = self.provider.base_url_for(account)

    def first_checkpoint(self, mode: str, cursor: str | None) -> runs.Checkpoint:
        params = dict(self.spec.params)
        incremental = self.spec.incremental
        if mode == "incremental" and incremental is not None and cursor is not None:
            if incremental.search_path is not None:
                path = _with_config(incremental.search_path, self.config)
                size = incremental.search_page_size
                request = search_request(path, incremental.param, cursor, page_size=size)
                return {"request": request, "cursor": cursor}
            for name in incremental.drop_params:
                params.pop(name, None)
            params[incremental.param] = incremental.template.format(value=cursor)
        request = first_request(self.path, params, self.pagination, self.spec.page_size)
        return {"request": request, "cursor": cursor if mode == "incremental" else None}

    def run(self, key: runs.RunKey, claim: runs.Claim) -> int:
        pages = since_claim = 0  # committed in this attempt / since the (re)claim
        checkpoint: runs.Checkpoint | None = claim.checkpoint
        while checkpoint is not None:
            number = claim.pages_done + since_claim + 1  # the run's page number
            try:
                checkpoint = self._page(key, claim, checkpoint, number)
            except PermanentError as exc:
                if not self._token_gone(claim, exc):
                    raise
                logger.info("sync token expired %s %s: full resync", key.provider, key.model)
                claim = runs.restart_full(self.context.sessions, key, claim, self.first_checkpoint)
                checkpoint, since_claim = claim.checkpoint, 0
                continue
            pages += 1
            since_claim += 1
        return pages

    def _page(
        self, key: runs.RunKey, claim: runs.Claim, checkpoint: runs.Checkpoint, number: int
    ) -> runs.Checkpoint | None:
        request = checkpoint["request"]
        searching = "json" in request
        incremental = self.spec.incremental
        response = call_provider(
            self.context,
            self.job,
            request.get("method", "GET"),
            request["url"],
            params=request.get("params"),
            json=request.get("json"),
            extra_limit=incremental.rate_limit if searching and incremental else None,
        )
        body = response.json()
        items = items_of(self.spec, body, self.items_path, number)
        page = rows_of(self.spec, items, number)
        cursor = _max(checkpoint.get("cursor"), page.max_updated)
        if searching and incremental is not None:
            following = next_search_request(
                request, body, page.max_updated or cursor, result_cap=incremental.result_cap
            )
        else:
            following = next_request(
                self.pagination,
                request,
                body,
                items,
                next_link=response.response.links.get("next", {}).get("url"),
                base_url=self.base_url,
                page_size=self.spec.page_size,
            )
        nxt = None if following is None else {"request": following, "cursor": cursor}
        final = self._final_cursor(body, cursor) if following is None else None
        counts = runs.commit_page(self.context.sessions, key, claim, page, checkpoint, nxt, final)
        for action in ("added", "updated", "unchanged", "deleted"):
            amount = getattr(counts, action)
            if amount:
                SYNC_RECORDS.labels(self.spec.provider, self.spec.model, action).inc(amount)
        return nxt

    def _final_cursor(self, body: Any, cursor: str | None) -> str | None:
        incremental = self.spec.incremental
        if incremental is None:
            return None
        if incremental.style == "sync_token":
            token = dig(body, incremental.token_path or "")
            return str(token) if token else None
        return cursor

    def _token_gone(self, claim: runs.Claim, exc: PermanentError) -> bool:
        incremental = self.spec.incremental
        return (
            incremental is not None
            and claim.mode == "incremental"
            and getattr(exc, "status", None) == incremental.gone_status
        )


def _definition(job: SyncJob) -> SyncModelSpec:
    try:
        return load_sync_models().get(job.provider, job.payload.model)
    except LookupError as exc:
        raise UnsupportedJobError(str(exc)) from None


def _connection(context: WorkerContext, job: SyncJob) -> tuple[str, dict[str, Any], dict[str, str]]:
    with context.sessions() as session:
        row = usable_connection(session, job, job.provider)
        account = {str(k): str(v) for k, v in (row.account_identifier or {}).items()}
        return row.id, dict(row.config or {}), account


def _with_config(path: str, config: dict[str, Any]) -> str:
    """Fill ``{name}`` placeholders that the connection's config names (Mailchimp's list)."""
    return fill_path(path, config)[0]


def _max(a: str | None, b: str | None) -> str | None:
    if a is None or b is None:
        return a or b
    return max(a, b)
