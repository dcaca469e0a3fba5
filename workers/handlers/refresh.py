"""The ``refresh`` kind: renew a connection's OAuth token (proactive, or forced).

The scheduler enqueues these ahead of expiry (:func:`producers.proactive_refreshes.enqueue_due_refreshes`);
the work itself is :func:`workers.token_refresh.refresh`, shared with on-demand refreshes, so a
scheduled refresh and a job's own refresh can never both call the provider.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from contract.envelope import JobEnvelope, RefreshJob
from storage.errors import NotFoundError
from storage.repositories.connections import ConnectionRepository
from storage.repositories.credentials import CredentialRepository
from storage.types import utcnow
from workers.context import WorkerContext
from workers.errors import ConnectionUnusable, PermanentJobError
from workers.token_refresh import RefreshTarget, expires_soon, is_refreshable, refresh


def handle(job: JobEnvelope, context: WorkerContext) -> Mapping[str, Any]:
    """Refresh when the token expires within the margin (or always, with ``force``)."""
    assert isinstance(job, RefreshJob)
    spec = context.catalog.get(job.provider)
    with context.sessions() as session:
        try:
            row = ConnectionRepository(session, job.org_id).get_by_provider(
                spec.name, job.connection
            )
            stored = CredentialRepository(session, job.org_id, context.keyring).load(row.id)
        except NotFoundError as exc:
            raise ConnectionUnusable(f"nothing to refresh: {exc}") from None
        if row.status != "connected":
            raise ConnectionUnusable(
                f"connection {job.connection!r} to {spec.name} is {row.status}"
            )
        account = {str(k): str(v) for k, v in (row.account_identifier or {}).items()}
        target = RefreshTarget(job.org_id, row.id, row.name, spec, account)
    if not is_refreshable(stored):
        raise PermanentJobError(f"{spec.name} uses {stored.auth_mode} credentials: no refresh")
    if not job.payload.force and not expires_soon(stored, spec, utcnow()):
        return {"refreshed": False, "version": stored.version}  # renewed since it was due
    before = stored.version
    after = refresh(context, target, force=job.payload.force)
    return {"refreshed": after.version != before, "version": after.version}
