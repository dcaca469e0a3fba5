"""Routing an inbound webhook to the connection(s) it belongs to, and their secrets.

A webhook names a provider account (a shop domain, a Stripe account, a Slack team...), not
an org: :func:`find_connections_by_proven_account` looks across orgs for connections whose
first account identifier the provider itself proved (issue #17: a value an org merely typed
routes nothing, or one org could receive another's events by claiming its account id). Providers whose payload names no
account (Calendly, Standard Webhooks senders) are routed by the connection id in the URL
(``/webhooks/{provider}/{connection_id}``).

A request verifies with the connection's own secret (its credential's ``secret``) or the
operator's app-level ``SWITCHYARD_PROVIDERS__<NAME>__WEBHOOK_SECRET``, whichever signed it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from providers.spec import ProviderSpec
from storage.crypto import KeyRing, Secret
from storage.errors import NotFoundError
from storage.models import Connection
from storage.repositories.connections import find_connections_by_proven_account
from storage.repositories.credentials import CredentialRepository


@dataclass(frozen=True)
class Target:
    """One connection a webhook is for, with the secrets that may have signed it (its own,
    then the operator's)."""

    org_id: str
    connection_id: str
    connection_name: str
    secrets: tuple[Secret, ...]


def operator_secret(settings: Mapping[str, Mapping[str, Any]], provider: str) -> Secret | None:
    """The app-level webhook secret the operator configured for a provider, if any."""
    value = settings.get(provider, {}).get("webhook_secret")
    return Secret(str(value)) if value else None


def targets(
    session: Session,
    keyring: KeyRing,
    spec: ProviderSpec,
    *,
    account: str | None,
    connection_id: str | None,
    fallback: Secret | None,
) -> Sequence[Target]:
    """The connections to deliver to: the one named in the URL, or those holding ``account``."""
    if connection_id is not None:
        connection = session.get(Connection, connection_id)
        if connection is None or connection.provider != spec.name:
            return []
        found: Sequence[Connection] = [connection]
    elif account and spec.account_identifiers:
        found = find_connections_by_proven_account(session, spec.name, account)
    else:
        return []
    return [
        Target(
            c.org_id, c.id, c.name, _candidates(_connection_secret(session, keyring, c), fallback)
        )
        for c in found
        if c.status != "disconnected"
    ]


def _candidates(*secrets: Secret | None) -> tuple[Secret, ...]:
    return tuple(dict.fromkeys(s for s in secrets if s is not None))


def _connection_secret(session: Session, keyring: KeyRing, connection: Connection) -> Secret | None:
    try:
        credential = CredentialRepository(session, connection.org_id, keyring).load(connection.id)
    except NotFoundError:
        return None
    return credential.secret
