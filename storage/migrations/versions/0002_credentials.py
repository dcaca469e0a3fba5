"""Credentials and OAuth (#6): connect flows, refresh bookkeeping, key rotation.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Resumable `switchyard keys rotate`: the cursor commits with each batch.
    op.create_table(
        "key_rotation_progress",
        sa.Column("target", sa.String(length=64), nullable=False),
        sa.Column("kid", sa.String(length=64), nullable=False),
        sa.Column("last_id", sa.String(length=64), nullable=True),
        sa.Column("rows_changed", sa.Integer(), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("target", "kid", name=op.f("pk_key_rotation_progress")),
    )
    # The proactive refresh scheduler scans credentials by expiry every minute.
    op.create_index(op.f("ix_credentials_expires_at"), "credentials", ["expires_at"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_credentials_expires_at"), table_name="credentials")
    op.drop_table("key_rotation_progress")
