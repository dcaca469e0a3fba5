"""Re-encrypting every stored secret to the key ring's newest key, resumably.

``switchyard keys rotate`` walks each kind of secret (a :class:`Rotation`) in id order, one
batch per transaction, and commits its cursor (:class:`KeyRotationProgress`) in the same
transaction as the rows it re-encrypted: a rotation killed at any point resumes after the
last committed batch. Rows are rewritten under a version fence, so a worker refreshing a
token meanwhile wins (its new token is already under the newest key, provided every
process was given the new key list first). Old keys keep decrypting until removed from
``SWITCHYARD_SECURITY__ENCRYPTION_KEYS``; ``pending`` says when that is safe.

Other packages add their secrets by appending a :class:`Rotation` to :data:`ROTATIONS`
(webhook endpoint secrets, for instance).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from storage.crypto import KeyRing
from storage.models import (
    CREDENTIAL_SECRET_FIELDS,
    Credential,
    KeyRotationProgress,
    WebhookEndpoint,
)
from storage.repositories.credentials import reencrypt_credentials
from storage.repositories.webhook_endpoints import (
    WEBHOOK_SECRET_COLUMNS,
    reencrypt_webhook_secrets,
)
from storage.types import utcnow


@dataclass(frozen=True)
class Batch:
    """One batch's outcome: the last id it covered (None: nothing left) and rows changed."""

    last_id: str | None
    changed: int


RotateBatch = Callable[[Session, KeyRing, str | None, int], Batch]
CountPending = Callable[[Session, KeyRing], int]


@dataclass(frozen=True)
class Rotation:
    """One kind of secret: how to re-encrypt a batch after an id, and how many remain."""

    target: str
    rotate_batch: RotateBatch
    pending: CountPending


@dataclass
class RotationReport:
    """What one rotation did in this run."""

    target: str
    kid: str
    changed: int = 0
    batches: int = 0
    resumed_after: str | None = None
    pending: int = 0

    def as_dict(self) -> dict[str, object]:
        return {
            "target": self.target,
            "kid": self.kid,
            "changed": self.changed,
            "batches": self.batches,
            "resumed_after": self.resumed_after,
            "pending": self.pending,
        }


def credentials_batch(session: Session, keyring: KeyRing, after: str | None, limit: int) -> Batch:
    """Re-encrypt the credentials with the next ``limit`` ids after ``after``."""
    query = select(Credential.id).order_by(Credential.id).limit(limit)
    if after is not None:
        query = query.where(Credential.id > after)
    ids = list(session.scalars(query).all())
    if not ids:
        return Batch(None, 0)
    rows = select(Credential).where(Credential.id.in_(ids))
    return Batch(ids[-1], reencrypt_credentials(session, keyring, rows))


def credentials_pending(session: Session, keyring: KeyRing) -> int:
    """Credentials with at least one secret still under an older key."""
    columns = [getattr(Credential, f"encrypted_{name}") for name in CREDENTIAL_SECRET_FIELDS]
    stale = 0
    for values in session.execute(select(*columns)).all():
        if any(value is not None and keyring.needs_rotation(value) for value in values):
            stale += 1
    return stale


def webhook_secrets_batch(
    session: Session, keyring: KeyRing, after: str | None, limit: int
) -> Batch:
    """Re-encrypt the signing secrets of the next ``limit`` webhook endpoints after ``after``."""
    query = select(WebhookEndpoint.id).order_by(WebhookEndpoint.id).limit(limit)
    if after is not None:
        query = query.where(WebhookEndpoint.id > after)
    ids = list(session.scalars(query).all())
    if not ids:
        return Batch(None, 0)
    rows = select(WebhookEndpoint).where(WebhookEndpoint.id.in_(ids))
    return Batch(ids[-1], reencrypt_webhook_secrets(session, keyring, rows))


def webhook_secrets_pending(session: Session, keyring: KeyRing) -> int:
    """Webhook endpoints with a signing secret still under an older key."""
    columns = [getattr(WebhookEndpoint, name) for name in WEBHOOK_SECRET_COLUMNS]
    return sum(
        any(value is not None and keyring.needs_rotation(value) for value in values)
        for values in session.execute(select(*columns)).all()
    )


ROTATIONS: list[Rotation] = [
    Rotation("credentials", credentials_batch, credentials_pending),
    Rotation("webhook_secrets", webhook_secrets_batch, webhook_secrets_pending),
]
"""Every kind of secret ``keys rotate`` re-encrypts; append to add one."""

BatchHook = Callable[[RotationReport], None]


def rotate_all(
    sessions: sessionmaker[Session],
    keyring: KeyRing,
    rotations: Sequence[Rotation] | None = None,
    *,
    batch_size: int = 500,
    on_batch: BatchHook | None = None,
) -> list[RotationReport]:
    """Run every rotation to the end, resuming interrupted ones; ``on_batch`` after each
    committed batch (progress output, tests)."""
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    return [
        _rotate(sessions, keyring, rotation, batch_size, on_batch)
        for rotation in (ROTATIONS if rotations is None else rotations)
    ]


def _rotate(
    sessions: sessionmaker[Session],
    keyring: KeyRing,
    rotation: Rotation,
    batch_size: int,
    on_batch: BatchHook | None,
) -> RotationReport:
    report = RotationReport(rotation.target, keyring.primary_kid)
    with sessions.begin() as session:
        progress = _progress(session, rotation.target, report.kid)
        if progress.finished_at is not None:  # a new run re-checks everything
            progress.last_id, progress.finished_at = None, None
        report.resumed_after = after = progress.last_id
    while True:
        with sessions.begin() as session:
            batch = rotation.rotate_batch(session, keyring, after, batch_size)
            progress = _progress(session, rotation.target, report.kid)
            if batch.last_id is None:
                progress.finished_at = utcnow()
                break
            progress.last_id = after = batch.last_id
            progress.rows_changed += batch.changed
        report.changed += batch.changed
        report.batches += 1
        if on_batch is not None:
            on_batch(report)
    with sessions() as session:
        report.pending = rotation.pending(session, keyring)
    return report


def _progress(session: Session, target: str, kid: str) -> KeyRotationProgress:
    row = session.get(KeyRotationProgress, (target, kid), populate_existing=True)
    if row is None:
        row = KeyRotationProgress(target=target, kid=kid, last_id=None, rows_changed=0)
        session.add(row)
        session.flush()
    return row
