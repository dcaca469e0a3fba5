"""Retention (scheduler task ``retention``): indexes that find expired history rows cheaply.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_action_runs_created_at", "action_runs", ["created_at"])
    op.create_index("ix_sync_runs_finished_at", "sync_runs", ["finished_at"])


def downgrade() -> None:
    op.drop_index("ix_sync_runs_finished_at", table_name="sync_runs")
    op.drop_index("ix_action_runs_created_at", table_name="action_runs")
