"""Webhook endpoints of one org, with their signing secrets encrypted under the key ring.

A secret is generated here (``whsec_`` + base64 of 24 random bytes, the Standard Webhooks
form) and handed back exactly once, wrapped in :class:`Secret`; afterwards only the
delivery worker decrypts it, to sign. Rotation keeps the previous secret signing for a
grace period so receivers can roll over without rejecting a delivery.
"""

from __future__ import annotations

import base64
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import Select, select, update
from sqlalchemy.orm import Session

from storage.crypto import KeyRing, Secret
from storage.errors import InvalidFieldError, NotFoundError
from storage.models import DISABLED_REASONS, WebhookEndpoint
from storage.repositories.checks import require_choice
from storage.repositories.events import EVENT_TYPE_PATTERN
from storage.types import utcnow

SECRET_PREFIX = "whsec_"  # noqa: S105 - a format prefix, not a secret
SECRET_BYTES = 24
MAX_EVENT_TYPES = 100
_SECRET_PATTERN = re.compile(r"^whsec_[A-Za-z0-9+/]{32,88}={0,2}$")


def generate_secret() -> Secret:
    """A new Standard Webhooks signing secret."""
    return Secret(SECRET_PREFIX + base64.b64encode(os.urandom(SECRET_BYTES)).decode("ascii"))


def associated_data(org_id: str, endpoint_id: str, column: str) -> str:
    """Binds an endpoint's secret ciphertext to its org, row and column."""
    return f"switchyard:webhook_endpoint:{org_id}:{endpoint_id}:{column}"


def require_url(url: str) -> str:
    """An absolute http(s) URL with a host, without credentials, at most 2000 characters."""
    if not isinstance(url, str) or len(url) > 2000:
        raise InvalidFieldError("url", "must be an http(s) URL of at most 2000 characters")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise InvalidFieldError("url", "scheme must be http or https")
    if not parts.hostname:
        raise InvalidFieldError("url", "must name a host")
    if parts.username or parts.password:
        raise InvalidFieldError("url", "must not carry credentials")
    return url


def require_event_types(event_types: Sequence[str]) -> list[str]:
    """A list of event type names (empty: every type)."""
    if isinstance(event_types, str) or len(event_types) > MAX_EVENT_TYPES:
        raise InvalidFieldError("event_types", f"must be a list of at most {MAX_EVENT_TYPES}")
    for item in event_types:
        if not isinstance(item, str) or not EVENT_TYPE_PATTERN.match(item):
            raise InvalidFieldError("event_types", f"{item!r} is not an event type name")
    return sorted(set(event_types))


def _require_optional_int(field: str, value: int | None, low: int, high: int) -> int | None:
    if value is not None and (not isinstance(value, int) or not low <= value <= high):
        raise InvalidFieldError(field, f"must be between {low} and {high}")
    return value


@dataclass(frozen=True)
class IssuedEndpoint:
    """A created (or re-keyed) endpoint and its new secret, shown to the caller once."""

    endpoint: WebhookEndpoint
    secret: Secret


class WebhookEndpointRepository:
    """Create, list, re-key, enable and disable the endpoints of the org given at construction."""

    def __init__(self, session: Session, org_id: str, keyring: KeyRing) -> None:
        self._session = session
        self._org_id = org_id
        self._keyring = keyring

    def create(
        self,
        url: str,
        *,
        description: str = "",
        event_types: Sequence[str] = (),
        rate_limit_per_second: int | None = None,
        max_concurrency: int | None = None,
        secret: str | None = None,
    ) -> IssuedEndpoint:
        """Create an endpoint; a secret is generated unless a ``whsec_`` one is given."""
        if secret is not None and not _SECRET_PATTERN.match(secret):
            raise InvalidFieldError("secret", "must be whsec_ followed by base64 (24-64 bytes)")
        if not isinstance(description, str) or len(description) > 500:
            raise InvalidFieldError("description", "must be at most 500 characters")
        endpoint = WebhookEndpoint(
            org_id=self._org_id,
            url=require_url(url),
            description=description,
            event_types=require_event_types(event_types),
            rate_limit_per_second=_require_optional_int(
                "rate_limit_per_second", rate_limit_per_second, 1, 10_000
            ),
            max_concurrency=_require_optional_int("max_concurrency", max_concurrency, 1, 1_000),
            encrypted_secret="",
        )
        self._session.add(endpoint)
        self._session.flush()
        issued = Secret(secret) if secret is not None else generate_secret()
        endpoint.encrypted_secret = self._encrypt(endpoint.id, "secret", issued)
        self._session.flush()
        return IssuedEndpoint(endpoint, issued)

    def get(self, endpoint_id: str) -> WebhookEndpoint:
        """The org's endpoint with this id, or :class:`NotFoundError`."""
        endpoint = self._session.scalars(
            self._scoped().where(WebhookEndpoint.id == endpoint_id)
        ).one_or_none()
        if endpoint is None:
            raise NotFoundError("webhook endpoint", endpoint_id)
        return endpoint

    def list(self, *, enabled: bool | None = None) -> Sequence[WebhookEndpoint]:
        """Oldest first; optionally only enabled (or disabled) ones."""
        query = self._scoped()
        if enabled is not None:
            query = query.where(WebhookEndpoint.enabled.is_(enabled))
        return self._session.scalars(
            query.order_by(WebhookEndpoint.created_at, WebhookEndpoint.id)
        ).all()

    def rotate_secret(self, endpoint_id: str, *, grace: timedelta) -> IssuedEndpoint:
        """Issue a new secret; the current one keeps signing for ``grace`` (0: not at all)."""
        endpoint = self.get(endpoint_id)
        old = self._keyring.decrypt(
            endpoint.encrypted_secret,
            associated_data=associated_data(self._org_id, endpoint.id, "secret"),
        )
        issued = generate_secret()
        endpoint.encrypted_secret = self._encrypt(endpoint.id, "secret", issued)
        if grace > timedelta(0):
            endpoint.encrypted_previous_secret = self._encrypt(endpoint.id, "previous_secret", old)
            endpoint.previous_secret_expires_at = utcnow() + grace
        else:
            endpoint.encrypted_previous_secret = None
            endpoint.previous_secret_expires_at = None
        self._session.flush()
        return IssuedEndpoint(endpoint, issued)

    def signing_secrets(self, endpoint: WebhookEndpoint, now: datetime) -> tuple[Secret, ...]:
        """Every secret that signs now: the current one, then the previous within its grace."""
        secrets = [
            self._keyring.decrypt(
                endpoint.encrypted_secret,
                associated_data=associated_data(self._org_id, endpoint.id, "secret"),
            )
        ]
        expires = endpoint.previous_secret_expires_at
        if endpoint.encrypted_previous_secret and expires is not None and expires > now:
            secrets.append(
                self._keyring.decrypt(
                    endpoint.encrypted_previous_secret,
                    associated_data=associated_data(self._org_id, endpoint.id, "previous_secret"),
                )
            )
        return tuple(secrets)

    def disable(self, endpoint_id: str, reason: str = "manual") -> WebhookEndpoint:
        """Stop deliveries to the endpoint, recording why (manual, gone, failing)."""
        require_choice("reason", reason, DISABLED_REASONS)
        endpoint = self.get(endpoint_id)
        endpoint.enabled = False
        endpoint.disabled_reason = reason
        endpoint.disabled_at = utcnow()
        self._session.flush()
        return endpoint

    def disable_once(self, endpoint_id: str, reason: str) -> datetime | None:
        """Disable the endpoint if it is enabled, in one conditional UPDATE; returns when it
        was disabled, or None when another writer disabled it first (deliveries settling
        together must announce one disable, not one each)."""
        require_choice("reason", reason, DISABLED_REASONS)
        now = utcnow()
        result = self._session.execute(
            update(WebhookEndpoint)
            .where(
                WebhookEndpoint.org_id == self._org_id,
                WebhookEndpoint.id == endpoint_id,
                WebhookEndpoint.enabled.is_(True),
            )
            .values(enabled=False, disabled_reason=reason, disabled_at=now)
            .execution_options(synchronize_session=False)
        )
        return now if result.rowcount == 1 else None  # type: ignore[attr-defined]

    def enable(self, endpoint_id: str) -> WebhookEndpoint:
        """Resume deliveries; the failure streak starts afresh."""
        endpoint = self.get(endpoint_id)
        endpoint.enabled = True
        endpoint.disabled_reason = None
        endpoint.disabled_at = None
        endpoint.failing_since = None
        self._session.flush()
        return endpoint

    def _encrypt(self, endpoint_id: str, column: str, value: Secret) -> str:
        return self._keyring.encrypt(
            value, associated_data=associated_data(self._org_id, endpoint_id, column)
        )

    def _scoped(self) -> Select[WebhookEndpoint]:
        return select(WebhookEndpoint).where(WebhookEndpoint.org_id == self._org_id)


WEBHOOK_SECRET_COLUMNS = ("encrypted_secret", "encrypted_previous_secret")


def reencrypt_webhook_secrets(
    session: Session, keyring: KeyRing, rows: Select[Any] | None = None
) -> int:
    """Re-encrypt endpoint secrets not under the ring's primary key; return rows changed.

    Operator-wide, for ``switchyard keys rotate`` (``rows`` narrows it to one batch).
    """
    changed = 0
    query = select(WebhookEndpoint).order_by(WebhookEndpoint.id) if rows is None else rows
    for row in session.scalars(query).all():
        touched = False
        for column in ("secret", "previous_secret"):
            attribute = f"encrypted_{column}"
            ciphertext: str | None = getattr(row, attribute)
            if ciphertext and keyring.needs_rotation(ciphertext):
                data = associated_data(row.org_id, row.id, column)
                setattr(row, attribute, keyring.reencrypt(ciphertext, associated_data=data))
                touched = True
        changed += touched
    session.flush()
    return changed
