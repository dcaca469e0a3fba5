"""Credentials and OAuth (#6): connect flows, refresh bookkeeping, key rotation.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # The proactive refresh scheduler scans credentials by expiry every minute.
    op.create_index(op.f("ix_credentials_expires_at"), "credentials", ["expires_at"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_credentials_expires_at"), table_name="credentials")
