"""Event retention (scheduler task ``retention``): indexes that find expired events and
inbound webhooks by age.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_events_created_at", "events", ["created_at"])
    op.create_index("ix_inbound_webhooks_created_at", "inbound_webhooks", ["created_at"])


def downgrade() -> None:
    op.drop_index("ix_inbound_webhooks_created_at", table_name="inbound_webhooks")
    op.drop_index("ix_events_created_at", table_name="events")
