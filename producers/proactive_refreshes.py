"""Proactive token refresh: enqueue a ``refresh`` job ahead of each expiry.

The scheduler calls :func:`enqueue_due_refreshes` every minute or so. A credential is due
when it expires within its refresh margin (the provider's ``refresh_margin_seconds``, capped
at a fraction of the token's lifetime); its job's idempotency key
is derived from the connection and the expiry, so any number of schedulers running at once
enqueue it once, and the next expiry (after the refresh) gets a key of its own.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy.orm import Session, sessionmaker

from producers.enqueue import Enqueuer
from providers.registry import Catalog
from providers.spec import OAuth2ClientCredentialsAuth, OAuth2CodeAuth
from providers.spec_auth import REFRESHABLE_AUTH_MODES
from storage.repositories.credentials import DueCredential, find_expiring_credentials

log = logging.getLogger("switchyard.scheduler")


class RefreshRuntime(Protocol):
    """What the function needs from the runtime (``switchyard.runtime.Runtime`` fits)."""

    @property
    def sessions(self) -> sessionmaker[Session]: ...

    @property
    def catalog(self) -> Catalog: ...

    @property
    def enqueuer(self) -> Enqueuer: ...


def enqueue_due_refreshes(
    runtime: RefreshRuntime, now: datetime, *, org_id: str | None = None
) -> int:
    """Enqueue refresh jobs for credentials expiring within their margin; return how many
    were new (duplicates of an earlier run are not counted). Every org unless ``org_id``."""
    auths = _refreshable(runtime.catalog)
    if not auths:
        return 0
    horizon = now + timedelta(seconds=max(a.refresh_margin_seconds for a in auths.values()))
    with runtime.sessions() as session:
        candidates = find_expiring_credentials(
            session, before=horizon, auth_modes=REFRESHABLE_AUTH_MODES, org_id=org_id
        )
    enqueued = 0
    for due in candidates:
        auth = auths.get(due.provider)
        if auth is None:
            continue
        margin = auth.refresh_margin(due.lifetime_seconds)
        if due.expires_at > now + timedelta(seconds=margin):
            continue
        if not runtime.enqueuer.enqueue(refresh_job(due)).duplicate:
            enqueued += 1
    if enqueued:
        log.info("enqueued %d proactive token refreshes", enqueued)
    return enqueued


def refresh_job(due: DueCredential) -> dict[str, object]:
    """The refresh job of one due credential, keyed by connection and expiry."""
    return {
        "kind": "refresh",
        "org_id": due.org_id,
        "provider": due.provider,
        "connection": due.connection_name,
        "idempotency_key": f"refresh:{due.connection_id}:{int(due.expires_at.timestamp())}",
    }


def _refreshable(catalog: Catalog) -> dict[str, OAuth2CodeAuth | OAuth2ClientCredentialsAuth]:
    """The OAuth settings of every catalog entry whose tokens can be refreshed."""
    return {
        spec.name: spec.auth
        for spec in catalog
        if isinstance(spec.auth, OAuth2CodeAuth | OAuth2ClientCredentialsAuth)
    }
