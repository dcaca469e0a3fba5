"""Routing an inbound webhook to the connection(s) it belongs to, and their secrets.

A webhook names a provider account (a shop domain, a Stripe account, a Slack team...), not
an org: :func:`find_connections_by_account` looks across orgs for connections holding that
account under the provider's first account identifier. Providers whose payload names no
account (Calendly, Standard Webhooks senders) are routed by the connection id in the URL
(``/webhooks/{provider}/{connection_id}``).

The secret that verifies a request is the connection's own (its credential's ``secret``)
when it has one, else the operator's ``SWITCHYARD_PROVIDERS__<NAME>__WEBHOOK_SECRET``.
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
from storage.repositories.connections import find_connections_by_account
from storage.repositories.credentials import CredentialRepository


@dataclass(frozen=True)
class Target:
    """One connection a webhook is for, with the secret that must have signed it."""

    org_id: str
    connection_id: str
    connection_name: str
    secret: Secret | None


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
        key = spec.account_identifiers[0].name
        found = find_connections_by_account(session, spec.name, {key: account})
    else:
        return []
    return [
        Target(c.org_id, c.id, c.name, _connection_secret(session, keyring, c) or fallback)
        for c in found
        if c.status != "disconnected"
    ]


def _connection_secret(session: Session, keyring: KeyRing, connection: Connection) -> Secret | None:
    try:
        credential = CredentialRepository(session, connection.org_id, keyring).load(connection.id)
    except NotFoundError:
        return None
    return credential.secret
